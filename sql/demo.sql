-- Demo data (the seed's utils/create_db.py): 24 products over today's eight 2-hour slots
-- 8, 10, ..., 22, three per slot; 399.00 -> 309.00, stock 50.
--
-- A slot H normally runs [H:00, H+2:00) today. Slot 8 also covers the night before it
-- (00:00-10:00) and slot 22 runs to midnight, so every moment of the day has a current
-- slot. The current slot's products are on sale now: they start at
-- LEAST(H:00, NOW() - 1 minute) and end at the slot's end. Status follows the clock:
-- 2 ended, 1 on sale, 0 not started (the worker's scheduler keeps it moving later).
--
-- Idempotent: nothing is inserted when some product already starts today, so running it
-- again the same day adds nothing and on a new day adds that day's products.
-- One statement, so NOW() and CURDATE() are the same instant throughout (the session
-- time zone is the server's, default-time-zone=SYSTEM).
SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci;

INSERT INTO seckill_products
    (name, image, base_price, seckill_price, stock, seckill_start_time, seckill_end_time,
     status)
SELECT p.name, p.image, 399.00, 309.00, 50, p.start_time,
       p.end_time,
       CASE WHEN p.end_time <= p.now_ THEN 2
            WHEN p.start_time <= p.now_ THEN 1
            ELSE 0 END
FROM (
    SELECT s.n, s.name, s.image, c.now_,
           IF(s.slot = c.cur_slot,
              LEAST(c.today + INTERVAL s.slot HOUR, c.now_ - INTERVAL 1 MINUTE),
              c.today + INTERVAL s.slot HOUR) AS start_time,
           c.today + INTERVAL (s.slot + 2) HOUR AS end_time
    FROM (
        SELECT d.n, d.name, d.image, 8 + 2 * ((d.n - 1) DIV 3) AS slot
        FROM (
                      SELECT  1 AS n, '扫地机器人 X1' AS name, '/static/product_img/robot.svg' AS image
            UNION ALL SELECT  2, '扫地机器人 X2 Pro', '/static/product_img/robot.svg'
            UNION ALL SELECT  3, '无线蓝牙耳机 Air', '/static/product_img/earbuds.svg'
            UNION ALL SELECT  4, '降噪耳机 Max', '/static/product_img/headphones.svg'
            UNION ALL SELECT  5, '智能手表 S7', '/static/product_img/watch.svg'
            UNION ALL SELECT  6, '运动手环 6', '/static/product_img/band.svg'
            UNION ALL SELECT  7, '机械键盘 K87', '/static/product_img/keyboard.svg'
            UNION ALL SELECT  8, '无线鼠标 M3', '/static/product_img/mouse.svg'
            UNION ALL SELECT  9, '27英寸显示器', '/static/product_img/monitor.svg'
            UNION ALL SELECT 10, '移动电源 20000mAh', '/static/product_img/powerbank.svg'
            UNION ALL SELECT 11, '电动牙刷 P5', '/static/product_img/toothbrush.svg'
            UNION ALL SELECT 12, '空气净化器 A3', '/static/product_img/purifier.svg'
            UNION ALL SELECT 13, '智能电饭煲 4L', '/static/product_img/ricecooker.svg'
            UNION ALL SELECT 14, '空气炸锅 5L', '/static/product_img/airfryer.svg'
            UNION ALL SELECT 15, '全自动咖啡机 C1', '/static/product_img/coffee.svg'
            UNION ALL SELECT 16, '破壁料理机', '/static/product_img/blender.svg'
            UNION ALL SELECT 17, '高速吹风机 H8', '/static/product_img/hairdryer.svg'
            UNION ALL SELECT 18, '桌面加湿器 Mini', '/static/product_img/humidifier.svg'
            UNION ALL SELECT 19, '智能音箱 S1', '/static/product_img/smartspeaker.svg'
            UNION ALL SELECT 20, '平板电脑 Pad 11', '/static/product_img/tablet.svg'
            UNION ALL SELECT 21, '便携蓝牙音箱 Go', '/static/product_img/speaker.svg'
            UNION ALL SELECT 22, '行车记录仪 D2', '/static/product_img/dashcam.svg'
            UNION ALL SELECT 23, '人体工学椅 Pro', '/static/product_img/chair.svg'
            UNION ALL SELECT 24, '户外露营灯 L1', '/static/product_img/lantern.svg'
        ) AS d
    ) AS s
    CROSS JOIN (
        SELECT NOW() AS now_, CAST(CURDATE() AS DATETIME) AS today,
               IF(HOUR(NOW()) < 10, 8, HOUR(NOW()) - HOUR(NOW()) % 2) AS cur_slot
    ) AS c
) AS p
WHERE NOT EXISTS (
    SELECT 1 FROM seckill_products AS e
    WHERE e.seckill_start_time >= CURDATE()
      AND e.seckill_start_time < CURDATE() + INTERVAL 1 DAY
)
ORDER BY p.n;
