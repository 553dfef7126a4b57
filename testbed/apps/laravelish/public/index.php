<?php

// Which release is answering: "release=<dir name> version=<VERSION> env=<APP_NAME>".
// realpath() matters: the request may come in through the `current` symlink.
require __DIR__ . '/../app/Release.php';

header('Content-Type: text/plain; charset=utf-8');
echo \App\Release::describe(realpath(__DIR__ . '/..'));
