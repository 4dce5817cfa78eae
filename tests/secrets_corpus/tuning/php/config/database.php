<?php

return [
    'default' => env('DB_CONNECTION', 'mysql'),
    'connections' => [
        'mysql' => [
            'driver' => 'mysql',
            'host' => env('DB_HOST', '127.0.0.1'),
            'database' => env('DB_DATABASE', 'forge'),
            'username' => env('DB_USERNAME', 'forge'),
            'password' => ⟦~env('DB_PASSWORD', '')⟧,
        ],
        'legacy' => [
            'driver' => 'sqlsrv',
            'host' => 'legacy-sql.internal',
            'username' => 'report',
            'password' => '⟦password⟧',
        ],
    ],
    'redis' => [
        'default' => ['host' => '127.0.0.1', 'password' => ⟦~null⟧, 'port' => 6379],
    ],
];
