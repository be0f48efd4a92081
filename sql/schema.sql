-- mod_seckill schema: the seed's two tables (Django models SeckillProduct and SeckillOrder,
-- design doc sections 3.1 and 6.2) with their named indexes. Idempotent: applying it again
-- changes nothing (scripts/db.sh schema).
--
-- Times are DATETIME(6) in the server's local time (the stack runs MariaDB with
-- default-time-zone=SYSTEM), like Django with USE_TZ = False.
SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS seckill_products (
    id                 BIGINT        NOT NULL AUTO_INCREMENT COMMENT 'product id',
    name               VARCHAR(64)   NOT NULL COMMENT 'product name',
    image              VARCHAR(128)  NOT NULL DEFAULT '/static/product_img/robot.svg'
                                     COMMENT 'image URL path',
    base_price         DECIMAL(10,2) NOT NULL COMMENT 'original price',
    seckill_price      DECIMAL(10,2) NOT NULL COMMENT 'flash-sale price',
    stock              INT           NOT NULL COMMENT 'flash-sale stock left',
    seckill_start_time DATETIME(6)   NOT NULL COMMENT 'sale starts',
    seckill_end_time   DATETIME(6)   NOT NULL COMMENT 'sale ends',
    status             SMALLINT      NOT NULL DEFAULT 0
                                     COMMENT '0 not started, 1 on sale, 2 ended',
    create_time        DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'created',
    update_time        DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
                                     ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'last updated',
    PRIMARY KEY (id),
    KEY idx_status_time (status, seckill_start_time, seckill_end_time),
    KEY idx_stock (stock)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='flash-sale products';

CREATE TABLE IF NOT EXISTS seckill_orders (
    id            BIGINT        NOT NULL COMMENT 'order id (snowflake, not auto increment)',
    user_id       VARCHAR(64)   NOT NULL COMMENT 'shopper id',
    goods_id      BIGINT        NOT NULL COMMENT 'seckill_products.id',
    goods_name    VARCHAR(64)   NOT NULL COMMENT 'product name at order time',
    seckill_price DECIMAL(10,2) NOT NULL COMMENT 'unit flash-sale price',
    quantity      SMALLINT      NOT NULL COMMENT 'units bought',
    total_amount  DECIMAL(10,2) NOT NULL COMMENT 'order total',
    status        SMALLINT      NOT NULL DEFAULT 0
                                COMMENT '0 unpaid, 1 paid, 2 cancelled, 3 completed',
    create_time   DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'created',
    pay_time      DATETIME(6)   NULL DEFAULT NULL COMMENT 'paid at',
    cancel_time   DATETIME(6)   NULL DEFAULT NULL COMMENT 'cancelled at',
    PRIMARY KEY (id),
    KEY idx_user_create_time (user_id, create_time),
    KEY idx_goods_status (goods_id, status),
    KEY idx_create_time (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='flash-sale orders';

-- Payments Alipay reported for orders already cancelled (the pay window ran out, or the
-- shopper cancelled, while the cashier page was open): never lost, refunded with
-- alipay.trade.refund, or left at status 0 with the reason for an operator.
CREATE TABLE IF NOT EXISTS seckill_refunds (
    order_id    BIGINT        NOT NULL COMMENT 'seckill_orders.id (out_trade_no)',
    trade_no    VARCHAR(64)   NOT NULL COMMENT 'Alipay trade number',
    amount      DECIMAL(10,2) NOT NULL COMMENT 'amount paid, to refund',
    status      SMALLINT      NOT NULL DEFAULT 0 COMMENT '0 to refund, 1 refunded',
    attempts    INT           NOT NULL DEFAULT 0 COMMENT 'failed refund attempts',
    last_error  VARCHAR(255)  NULL DEFAULT NULL COMMENT 'why the last attempt failed',
    create_time DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'payment recorded',
    refund_time DATETIME(6)   NULL DEFAULT NULL COMMENT 'refunded at',
    PRIMARY KEY (order_id),
    KEY idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='late payments of cancelled orders, and their refunds';
