<?php
/**
 * The base configuration for WordPress
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
/** The name of the database for WordPress */
define( 'DB_NAME', 'wp_blog' );

/** Database username */
define( 'DB_USER', 'wp_blog_user' );

/** Database password */
define( 'DB_PASSWORD', '⟦password⟧' );

/** Database hostname */
define( 'DB_HOST', 'localhost' );

/** Database charset to use in creating database tables. */
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );

/**#@+
 * Authentication unique keys and salts.
 */
define( 'AUTH_KEY',         '⟦wordpress-salt⟧' );
define( 'SECURE_AUTH_KEY',  '⟦wordpress-salt⟧' );
define( 'LOGGED_IN_KEY',    '⟦wordpress-salt⟧' );
define( 'NONCE_KEY',        '⟦wordpress-salt⟧' );
define( 'AUTH_SALT',        '⟦wordpress-salt⟧' );
define( 'SECURE_AUTH_SALT', '⟦wordpress-salt⟧' );
define( 'LOGGED_IN_SALT',   '⟦wordpress-salt⟧' );
define( 'NONCE_SALT',       '⟦wordpress-salt⟧' );
/**#@-*/

$table_prefix = 'wp_';

define( 'WP_DEBUG', false );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';
