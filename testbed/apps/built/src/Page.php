<?php

namespace App;

/** What public/index.php shows: the release, the built asset and a greeting from vendor/. */
final class Page
{
    public static function describe(string $root): array
    {
        $manifest = json_decode((string) @file_get_contents($root . '/public/build/manifest.json'), true);
        $entry = $manifest['resources/js/app.js'] ?? [];
        return [
            'release' => basename($root),
            'version' => trim((string) @file_get_contents($root . '/VERSION')),
            'asset' => $entry['file'] ?? 'none',
            'css' => $entry['css'][0] ?? 'none',
        ];
    }
}
