-- Runs once, as the postgres superuser, when the postgres volume is first created.
-- The app refuses superuser and BYPASSRLS roles: row-level security must bind it.
-- 'change-me' is a placeholder; change it here and in ConnectionStrings__ProDesk.
CREATE ROLE prodesk_app LOGIN PASSWORD 'change-me' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE DATABASE prodesk OWNER prodesk_app;
