-- CRM (MySQL 8 / MariaDB): the reference scenario's customers.
CREATE TABLE IF NOT EXISTS customers (
  customer_id INT NOT NULL PRIMARY KEY,
  tenant_id VARCHAR(16) NOT NULL,
  email VARCHAR(255) NOT NULL,
  full_name VARCHAR(255) NOT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  created_at DATETIME(6) NOT NULL,
  KEY customers_tenant (tenant_id)
) DEFAULT CHARSET=utf8mb4;
DELETE FROM customers;
INSERT INTO customers (customer_id, tenant_id, email, full_name, is_active, created_at) VALUES
  (1, 't2', 'ada.lovelace@example.org', 'Ada Lovelace', 1, '2024-01-10 01:00:00'),
  (2, 't3', 'grace.hopper@example.net', 'Grace Hopper', 1, '2024-01-19 02:00:00'),
  (3, 't1', 'alan.turing@example.com', 'Alan Turing', 1, '2024-01-28 03:00:00'),
  (4, 't2', 'edsger.dijkstra@example.org', 'Edsger Dijkstra', 1, '2024-02-06 04:00:00'),
  (5, 't3', 'barbara.liskov@example.net', 'Barbara Liskov', 1, '2024-02-15 05:00:00'),
  (6, 't1', 'donald.knuth@example.com', 'Donald Knuth', 1, '2024-02-24 06:00:00'),
  (7, 't2', 'frances.allen@example.org', 'Frances Allen', 0, '2024-03-04 07:00:00'),
  (8, 't3', 'ken.thompson@example.net', 'Ken Thompson', 1, '2024-03-13 08:00:00'),
  (9, 't1', 'margaret.hamilton@example.com', 'Margaret Hamilton', 1, '2024-03-22 09:00:00'),
  (10, 't2', 'john.mccarthy@example.org', 'John McCarthy', 1, '2024-03-31 10:00:00'),
  (11, 't3', 'radia.perlman@example.net', 'Radia Perlman', 1, '2024-04-09 11:00:00'),
  (12, 't1', 'tim.berners-lee@example.com', 'Tim Berners-Lee', 1, '2024-04-18 12:00:00'),
  (13, 't2', 'sophie.wilson@example.org', 'Sophie Wilson', 1, '2024-04-27 13:00:00'),
  (14, 't3', 'chloé.durand@example.net', 'Chloé Durand', 0, '2024-05-06 14:00:00'),
  (15, 't1', 'jürgen.schmidt@example.com', 'Jürgen Schmidt', 1, '2024-05-15 15:00:00'),
  (16, 't2', 'zoë.obrien@example.org', 'Zoë O''Brien', 1, '2024-05-24 16:00:00');
