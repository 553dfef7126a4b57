<?php
// health_probe.sh's fetch when the server has no curl: GET argv[1] with Host argv[2], within
// argv[3] seconds, and print what the curl branch prints (at most argv[4] bytes of body).
[, $url, $host, $timeout, $limit] = $argv;
$headers = ['Connection: close'];
if ($host !== '') {
    $headers[] = "Host: $host";
}
ini_set('default_socket_timeout', $timeout);
$context = stream_context_create([
    'http' => ['method' => 'GET', 'header' => $headers, 'timeout' => (float) $timeout,
               'ignore_errors' => true, 'follow_location' => 0],
    'ssl' => ['verify_peer' => false, 'verify_peer_name' => false],
]);
$start = microtime(true);
$body = @file_get_contents($url, false, $context, 0, (int) $limit);
$elapsed = sprintf('%.6f', microtime(true) - $start);
if ($body === false) {
    echo 'error ', error_get_last()['message'] ?? 'no answer', "\nelapsed $elapsed\nbody\n";
    exit(0);
}
preg_match('{^HTTP/\S+ (\d{3})}', $http_response_header[0] ?? '', $status);
echo 'status ', $status[1] ?? '000', "\nelapsed $elapsed\nbody\n", $body;
