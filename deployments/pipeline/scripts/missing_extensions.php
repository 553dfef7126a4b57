<?php
// The `ext-*` requirements of composer.json (argv[1]) this PHP lacks, one name a line (the
// install step's warning, deployments/pipeline/steps.py); nothing when all are there or the
// file is unreadable (composer itself will say so).
$json = json_decode((string) @file_get_contents($argv[1]), true);
$required = is_array($json) && is_array($json['require'] ?? null) ? $json['require'] : [];
foreach (array_keys($required) as $name) {
    $name = strtolower((string) $name);
    if (str_starts_with($name, 'ext-') && !extension_loaded(substr($name, 4))) {
        echo substr($name, 4), "\n";
    }
}
