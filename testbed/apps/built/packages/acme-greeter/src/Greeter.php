<?php

namespace Acme\Greeter;

use Acme\Clock\Clock;

final class Greeter
{
    public function __construct(private Clock $clock)
    {
    }

    public function greet(string $name): string
    {
        return sprintf('Hello from %s at %s', $name, $this->clock->now()->format('H:i:s'));
    }
}
