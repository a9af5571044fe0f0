-- CRA Article 14 (docs/LIFECYCLE.md): for each actively exploited vulnerability the monitor
-- finds in a product's attested firmware, when the registry told the manufacturer (the
-- clocks start), when a fix became available, and each report the manufacturer made.
-- Keep in step with ../postgres/0008_cra_clocks.sql.
CREATE TABLE cra_cases (
    product_id    TEXT   NOT NULL REFERENCES products (id),
    vulnerability TEXT   NOT NULL,
    aware         BIGINT NOT NULL,
    fix_available BIGINT,
    fixed_in      TEXT,
    PRIMARY KEY (product_id, vulnerability)
);

CREATE TABLE cra_reports (
    product_id    TEXT   NOT NULL,
    vulnerability TEXT   NOT NULL,
    report        TEXT   NOT NULL CHECK (report IN ('early-warning', 'notification', 'final-report')),
    made          BIGINT NOT NULL,
    reference     TEXT,
    recorded      BIGINT NOT NULL,
    recorded_by   TEXT   NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (product_id, vulnerability, report),
    FOREIGN KEY (product_id, vulnerability) REFERENCES cra_cases (product_id, vulnerability)
);
