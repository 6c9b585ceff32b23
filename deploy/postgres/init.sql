-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d),
-- as POSTGRES_USER. One database per service and one for the gateway's auth store, owned
-- by the compose user `vfu` (keep in step with POSTGRES_USER in docker-compose.yml).
CREATE DATABASE agreements OWNER vfu;
CREATE DATABASE placements OWNER vfu;
CREATE DATABASE supervisors OWNER vfu;
CREATE DATABASE gateway OWNER vfu;
