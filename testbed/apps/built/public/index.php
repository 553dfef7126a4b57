<?php

// Which release answers and which built asset it links: "release=<dir> version=<VERSION>
// asset=<build/assets/app-<hash>.js>". No artisan: vendor's autoloader and the Vite manifest.
// realpath() matters: the request may come in through the `current` symlink.
$root = realpath(__DIR__ . '/..');
require $root . '/vendor/autoload.php';

$page = \App\Page::describe($root);
$greeting = (new \Acme\Greeter\Greeter(new \Acme\Clock\Clock()))->greet('the built app');
header('Content-Type: text/html; charset=utf-8');
$e = static fn (string $s): string => htmlspecialchars($s);
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>release <?= $e($page['release']) ?></title>
<link rel="stylesheet" href="/build/<?= $e($page['css']) ?>">
<script type="module" src="/build/<?= $e($page['asset']) ?>"></script>
</head>
<body>
<p id="summary">release=<?= $e($page['release']) ?> version=<?= $e($page['version']) ?> asset=<?= $e($page['asset']) ?></p>
<p id="banner"><?= $e($greeting) ?></p>
</body>
</html>
