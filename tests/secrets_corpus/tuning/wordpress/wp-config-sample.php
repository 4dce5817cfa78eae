<?php
define( 'DB_NAME', 'database_name_here' );
define( 'DB_USER', 'username_here' );
define( 'DB_PASSWORD', '⟦~password_here⟧' );
define( 'DB_HOST', 'localhost' );
define( 'AUTH_KEY',         '⟦~put your unique phrase here⟧' );
define( 'SECURE_AUTH_KEY',  '⟦~put your unique phrase here⟧' );
