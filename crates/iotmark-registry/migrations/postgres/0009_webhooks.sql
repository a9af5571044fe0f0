-- Webhook subscriptions and their outbox (docs/LIFECYCLE.md, "Webhooks"). A subscription
-- asks for every attestation the registry records about one product, or about all of them.
-- Each recorded attestation puts one message per live subscription into the outbox, in the
-- same transaction that records it: a message exists exactly when its attestation does, and
-- is durable before the submitter hears the answer. The delivery worker sends and retries.
-- Keep in step with ../sqlite/0009_webhooks.sql.
CREATE TABLE webhooks (
    id           TEXT   NOT NULL PRIMARY KEY,
    organisation TEXT   NOT NULL REFERENCES organisations (id),
    url          TEXT   NOT NULL,
    -- The Standard Webhooks signing secret (`whsec_` and base64); the registry signs with it,
    -- so it is kept, not hashed.
    secret       TEXT   NOT NULL,
    -- NULL: every product.
    product_id   TEXT,
    created      BIGINT NOT NULL,
    removed      BIGINT
);
CREATE INDEX webhooks_live ON webhooks (product_id) WHERE removed IS NULL;
CREATE INDEX webhooks_of ON webhooks (organisation);

CREATE TABLE webhook_outbox (
    -- The `webhook-id` header: the same on every attempt, so a receiver can drop repeats.
    message_id      TEXT   NOT NULL PRIMARY KEY,
    webhook         TEXT   NOT NULL REFERENCES webhooks (id),
    envelope_sha256 TEXT   NOT NULL REFERENCES attestations (envelope_sha256),
    created         BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- Milliseconds since the epoch: when the next attempt is due. A worker that takes a
    -- message moves this past its attempt first, so a worker killed mid-delivery leaves the
    -- message due again then.
    next_attempt    BIGINT NOT NULL,
    last_attempt    BIGINT,
    delivered       BIGINT,
    -- Given up on (attempts exhausted, or the subscription removed).
    failed          BIGINT,
    last_error      TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt)
    WHERE delivered IS NULL AND failed IS NULL;
CREATE INDEX webhook_outbox_by_webhook ON webhook_outbox (webhook);
