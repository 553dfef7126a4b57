<?php

// The demo site `make run` serves: which release is live, from which commit.
// realpath() matters: the request comes in through the `current` symlink.
$root = realpath(__DIR__ . '/..');
$read = static fn (string $name): string => trim((string) @file_get_contents($root . '/' . $name));
$release = htmlspecialchars(basename($root));
$commit = htmlspecialchars($read('REVISION') ?: 'unknown');
$version = htmlspecialchars($read('VERSION') ?: 'unknown');
$short = htmlspecialchars(substr($read('REVISION'), 0, 12) ?: 'unknown');
header('Content-Type: text/html; charset=utf-8');
?>
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deploynix demo — release <?= $release ?></title>
<style>
  :root { color-scheme: light dark; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center;
         font: 16px/1.5 system-ui, sans-serif; background: #0f172a; color: #e2e8f0; }
  main { max-width: 36rem; padding: 2.5rem; border-radius: 1rem; background: #1e293b;
         box-shadow: 0 10px 30px rgb(0 0 0 / .35); }
  h1 { margin: 0 0 1rem; font-size: 1.6rem; }
  h1 span { color: #38bdf8; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.2rem; margin: 0; }
  dt { color: #94a3b8; }
  dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
  p { color: #94a3b8; font-size: .9rem; margin: 1.5rem 0 0; }
  p.summary { margin: 0 0 1.2rem; }
</style>
</head>
<body>
<main>
  <h1><span>Deploynix</span> demo — release <?= $release ?></h1>
  <p class="summary">Deploynix demo — release <?= $release ?>, commit <?= $commit ?>, version <?= $version ?></p>
  <dl>
    <dt>Release</dt><dd id="release"><?= $release ?></dd>
    <dt>Commit</dt><dd id="commit" title="<?= $commit ?>"><?= $short ?></dd>
    <dt>Version</dt><dd id="version"><?= $version ?></dd>
  </dl>
  <p>Served from <code>current/public</code>. Deploy again and reload: the release changes with no downtime.</p>
</main>
</body>
</html>
