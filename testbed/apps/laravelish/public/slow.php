<?php

// Like index.php but takes 50 ms, so graceful reloads meet requests in flight.
usleep(50000);
require __DIR__ . '/index.php';
