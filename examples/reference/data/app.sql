-- App (PostgreSQL): the reference scenario's orders.
CREATE TABLE IF NOT EXISTS orders (
  order_id BIGINT PRIMARY KEY,
  customer_id INT NOT NULL,
  total_amount NUMERIC(12,2) NOT NULL,
  status TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
DELETE FROM orders;
INSERT INTO orders (order_id, customer_id, total_amount, status, created_at) VALUES
  (1001, 1, 490.50, 'paid', '2024-04-21 01:49:00+00'),
  (1002, 1, 425.00, 'paid', '2024-04-13 10:56:00+00'),
  (1003, 2, 24.00, 'paid', '2024-05-10 09:08:00+00'),
  (1004, 3, 51.25, 'paid', '2024-02-13 12:39:00+00'),
  (1005, 4, 327.00, 'shipped', '2024-07-03 13:59:00+00'),
  (1006, 6, 28.50, 'paid', '2024-05-09 13:09:00+00'),
  (1007, 8, 291.50, 'refunded', '2024-04-09 17:55:00+00'),
  (1008, 8, 332.50, 'refunded', '2024-06-17 09:39:00+00'),
  (1009, 11, 259.25, 'shipped', '2024-10-25 16:21:00+00'),
  (1010, 12, 190.99, 'refunded', '2024-06-21 15:04:00+00'),
  (1011, 12, 404.50, 'shipped', '2024-05-09 21:48:00+00'),
  (1012, 12, 273.25, 'shipped', '2024-07-15 19:39:00+00'),
  (1013, 15, 89.99, 'shipped', '2024-06-23 23:20:00+00'),
  (1014, 15, 25.00, 'refunded', '2024-11-28 00:31:00+00'),
  (1015, 15, 409.99, 'refunded', '2024-08-11 20:58:00+00'),
  (1016, 16, 301.25, 'shipped', '2024-06-11 17:35:00+00'),
  (1017, 16, 247.00, 'refunded', '2024-06-09 21:17:00+00'),
  (1018, 16, 300.25, 'refunded', '2024-08-05 22:35:00+00');
