-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: bookshelf
-- ------------------------------------------------------
/*!40101 SET NAMES utf8mb4 */;

DROP TABLE IF EXISTS `users`;
CREATE TABLE `users` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `email` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  `remember_token` varchar(100) DEFAULT NULL,
  `avatar_hash` char(32) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

LOCK TABLES `users` WRITE;
INSERT INTO `users` VALUES (1,'Ada Byron','ada@example.org','⟦bcrypt-hash⟧',NULL,'⟦~0bc83cb571cd1c50ba6f3e8a78ef1346⟧'),(2,'Grace Hopper','grace@example.org','⟦bcrypt-hash⟧',NULL,'6d3f4e1a2b7c8d9e0f1a2b3c4d5e6f70');
INSERT INTO `users` VALUES (3,'Alan Turing','alan@example.org','⟦bcrypt-hash⟧',NULL,NULL),(4,'Edsger Dijkstra','edsger@example.org','⟦bcrypt-hash⟧',NULL,NULL);
UNLOCK TABLES;

DROP TABLE IF EXISTS `wp_users`;
CREATE TABLE `wp_users` (`ID` bigint, `user_login` varchar(60), `user_pass` varchar(255), `user_activation_key` varchar(255));
INSERT INTO `wp_users` VALUES (1,'admin','⟦phpass-hash⟧',''),(2,'writer','⟦phpass-hash⟧','');

DROP TABLE IF EXISTS `auth_user`;
CREATE TABLE `auth_user` (`id` integer, `password` varchar(128), `username` varchar(150));
INSERT INTO `auth_user` VALUES (1,'⟦django-pbkdf2-hash⟧','admin');
INSERT INTO `auth_user` VALUES (2,'⟦argon2-hash⟧','staff');
INSERT INTO `auth_user` VALUES (3,'⟦~!unusable⟧','importer');

DROP TABLE IF EXISTS `migrations`;
CREATE TABLE `migrations` (`id` int, `migration` varchar(255), `checksum` char(64));
INSERT INTO `migrations` VALUES (1,'2014_10_12_000000_create_users_table','⟦~9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08⟧');
INSERT INTO `migrations` VALUES (2,'2019_08_19_000000_create_failed_jobs_table','⟦~60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752⟧');

DROP TABLE IF EXISTS `api_clients`;
CREATE TABLE `api_clients` (`id` int, `name` varchar(64), `client_id` char(36), `secret` varchar(80));
INSERT INTO `api_clients` VALUES (1,'mobile','⟦~5f0c6a0e-3b1d-4c9e-8f2a-7d4b1e9c0a35⟧','⟦generic-api-token⟧');
