<?php

namespace App;

/** Describes the release this code runs from (used by public/index.php). */
final class Release
{
    public static function describe(string $root): string
    {
        $version = trim((string) @file_get_contents($root . '/VERSION'));
        // INI_SCANNER_RAW: a Laravel .env value ending in "=" (base64 APP_KEY) breaks the default mode.
        $env = @parse_ini_file($root . '/.env', false, INI_SCANNER_RAW) ?: [];
        return sprintf("release=%s version=%s env=%s\n", basename($root), $version, $env['APP_NAME'] ?? '');
    }
}
