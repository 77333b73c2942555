import type { Migration } from './migration.js';

/** Triggers, indexes and tables added since (versions 7–18). Never edit: add the next migration. */
export const laterChanges: Migration[] = [
  {
    version: 7,
    name: 'seats in use kept by triggers',
    sql: `
      -- Seats in use per pool (tenant_id 0: users of no tenant), kept true by the
      -- triggers below inside every statement that changes a user, so the seat
      -- check of a registration reads one row per pool instead of counting users.
      CREATE TABLE seats_used (
        tenant_id INTEGER PRIMARY KEY,
        used INTEGER NOT NULL CHECK (used >= 0)
      );
      INSERT INTO seats_used (tenant_id, used)
        SELECT COALESCE(tenant_id, 0), COUNT(*) FROM users WHERE status = 'active' AND builtin = 0 GROUP BY COALESCE(tenant_id, 0);

      CREATE TRIGGER seats_taken AFTER INSERT ON users WHEN NEW.status = 'active' AND NEW.builtin = 0 BEGIN
        INSERT INTO seats_used (tenant_id, used) VALUES (COALESCE(NEW.tenant_id, 0), 1)
          ON CONFLICT(tenant_id) DO UPDATE SET used = used + 1;
      END;
      CREATE TRIGGER seats_freed AFTER DELETE ON users WHEN OLD.status = 'active' AND OLD.builtin = 0 BEGIN
        UPDATE seats_used SET used = used - 1 WHERE tenant_id = COALESCE(OLD.tenant_id, 0);
      END;
      CREATE TRIGGER seats_moved AFTER UPDATE OF status, tenant_id, builtin ON users
        WHEN (OLD.status = 'active' AND OLD.builtin = 0) OR (NEW.status = 'active' AND NEW.builtin = 0) BEGIN
        UPDATE seats_used SET used = used - 1 WHERE tenant_id = COALESCE(OLD.tenant_id, 0) AND OLD.status = 'active' AND OLD.builtin = 0;
        INSERT INTO seats_used (tenant_id, used) SELECT COALESCE(NEW.tenant_id, 0), 1 WHERE NEW.status = 'active' AND NEW.builtin = 0
          ON CONFLICT(tenant_id) DO UPDATE SET used = used + 1;
      END;
    `,
  },
  {
    version: 10,
    name: 'admin management: disabled admins, last login, token expiry and last use',
    sql: `
      ALTER TABLE admins ADD COLUMN disabled_at TEXT;
      ALTER TABLE admins ADD COLUMN last_login_at TEXT;
      ALTER TABLE admin_tokens ADD COLUMN last_used_at TEXT;
      CREATE INDEX admin_tokens_admin ON admin_tokens(admin_id, kind);
      -- API tokens made before they could expire get the default lifetime (90 days) from now.
      UPDATE admin_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+90 days') WHERE kind = 'api' AND expires_at IS NULL;
    `,
  },
  {
    version: 12,
    name: 'paged lists: indexes for every sort and filter',
    sql: `
      -- Every list is read a page at a time, sorted and filtered by an index, so a
      -- page costs the same at 100,000 rows as at 1,000.

      -- Users: the built-in account first, then by name (one index for both orders;
      -- with the status, a page of active users deep in the list is read from it alone).
      CREATE INDEX users_listed ON users(builtin DESC, user_name, status);
      CREATE INDEX users_first_name ON users(first_name COLLATE NOCASE, id);
      CREATE INDEX users_last_name ON users(last_name COLLATE NOCASE, id);
      CREATE INDEX users_created ON users(created_at, id);
      CREATE INDEX users_pending ON users(pending_since, id) WHERE status = 'pending';

      -- Devices: the license state as a column (computed, never stored) so that
      -- "waiting" or "licensed" is an index range, not a scan.
      ALTER TABLE devices ADD COLUMN license_state TEXT GENERATED ALWAYS AS (
        CASE WHEN blocked <> 0 THEN 'blocked'
             WHEN user_name IS NULL THEN 'unassigned'
             WHEN vendor NOT IN ('cisco', 'unify') THEN 'not_required'
             WHEN license_code IS NOT NULL THEN 'licensed'
             ELSE 'waiting' END) VIRTUAL;
      CREATE INDEX devices_state ON devices(license_state, mac);
      CREATE INDEX devices_vendor ON devices(vendor, mac);
      DROP INDEX devices_user;
      CREATE INDEX devices_user ON devices(user_name, mac);
      CREATE INDEX devices_display ON devices(display_name COLLATE NOCASE);
      CREATE INDEX devices_last_seen ON devices(last_seen, mac);
      CREATE INDEX devices_state_seen ON devices(license_state, last_seen, mac);
      CREATE INDEX devices_last_ip ON devices(last_ip);
      CREATE INDEX devices_created ON devices(created_at, mac);

      -- Audit: filters by who as well as by action, and a text search that finds any
      -- part of the subject, actor, action or details (trigrams: "fession" finds
      -- "Professional") through a full-text index kept by triggers.
      CREATE INDEX audit_actor ON audit(actor);
      CREATE VIRTUAL TABLE audit_text USING fts5(subject, actor, action, details, content = 'audit', content_rowid = 'id', tokenize = 'trigram');
      INSERT INTO audit_text(audit_text) VALUES ('rebuild');
      CREATE TRIGGER audit_text_added AFTER INSERT ON audit BEGIN
        INSERT INTO audit_text(rowid, subject, actor, action, details) VALUES (NEW.id, NEW.subject, NEW.actor, NEW.action, NEW.details);
      END;
      CREATE TRIGGER audit_text_removed AFTER DELETE ON audit BEGIN
        INSERT INTO audit_text(audit_text, rowid, subject, actor, action, details) VALUES ('delete', OLD.id, OLD.subject, OLD.actor, OLD.action, OLD.details);
      END;
      CREATE TRIGGER audit_text_changed AFTER UPDATE ON audit BEGIN
        INSERT INTO audit_text(audit_text, rowid, subject, actor, action, details) VALUES ('delete', OLD.id, OLD.subject, OLD.actor, OLD.action, OLD.details);
        INSERT INTO audit_text(rowid, subject, actor, action, details) VALUES (NEW.id, NEW.subject, NEW.actor, NEW.action, NEW.details);
      END;
    `,
  },
  {
    version: 13,
    name: 'licenses in use kept by triggers',
    sql: `
      -- Per-user codes in force and suspended, and support licenses held per code,
      -- kept true by triggers inside every statement that changes an assignment (as
      -- seats_used is for seats): usage, status, /metrics and the usage peaks read
      -- a few rows instead of counting 100,000.
      CREATE TABLE user_licenses_used (
        code TEXT PRIMARY KEY,
        used INTEGER NOT NULL CHECK (used >= 0),
        suspended INTEGER NOT NULL CHECK (suspended >= 0)
      );
      INSERT INTO user_licenses_used (code, used, suspended)
        SELECT code, SUM(suspended = 0), SUM(suspended <> 0) FROM user_licenses GROUP BY code;

      CREATE TRIGGER user_licenses_taken AFTER INSERT ON user_licenses BEGIN
        INSERT INTO user_licenses_used (code, used, suspended) VALUES (NEW.code, NEW.suspended = 0, NEW.suspended <> 0)
          ON CONFLICT(code) DO UPDATE SET used = used + (NEW.suspended = 0), suspended = suspended + (NEW.suspended <> 0);
      END;
      CREATE TRIGGER user_licenses_freed AFTER DELETE ON user_licenses BEGIN
        UPDATE user_licenses_used SET used = used - (OLD.suspended = 0), suspended = suspended - (OLD.suspended <> 0) WHERE code = OLD.code;
      END;
      CREATE TRIGGER user_licenses_moved AFTER UPDATE OF code, suspended ON user_licenses BEGIN
        UPDATE user_licenses_used SET used = used - (OLD.suspended = 0), suspended = suspended - (OLD.suspended <> 0) WHERE code = OLD.code;
        INSERT INTO user_licenses_used (code, used, suspended) VALUES (NEW.code, NEW.suspended = 0, NEW.suspended <> 0)
          ON CONFLICT(code) DO UPDATE SET used = used + (NEW.suspended = 0), suspended = suspended + (NEW.suspended <> 0);
      END;

      CREATE TABLE devices_licensed (
        code TEXT PRIMARY KEY,
        used INTEGER NOT NULL CHECK (used >= 0)
      );
      INSERT INTO devices_licensed (code, used)
        SELECT license_code, COUNT(*) FROM devices WHERE license_code IS NOT NULL GROUP BY license_code;

      CREATE TRIGGER devices_license_taken AFTER INSERT ON devices WHEN NEW.license_code IS NOT NULL BEGIN
        INSERT INTO devices_licensed (code, used) VALUES (NEW.license_code, 1) ON CONFLICT(code) DO UPDATE SET used = used + 1;
      END;
      CREATE TRIGGER devices_license_freed AFTER DELETE ON devices WHEN OLD.license_code IS NOT NULL BEGIN
        UPDATE devices_licensed SET used = used - 1 WHERE code = OLD.license_code;
      END;
      CREATE TRIGGER devices_license_moved AFTER UPDATE OF license_code ON devices WHEN OLD.license_code IS NOT NEW.license_code BEGIN
        UPDATE devices_licensed SET used = used - 1 WHERE code = OLD.license_code;
        INSERT INTO devices_licensed (code, used) SELECT NEW.license_code, 1 WHERE NEW.license_code IS NOT NULL
          ON CONFLICT(code) DO UPDATE SET used = used + 1;
      END;

      -- Waiting phones in the order they get licenses, so a claim reads only the few ahead of it.
      CREATE INDEX devices_waiting_order ON devices(vendor, waiting_since, mac) WHERE waiting_since IS NOT NULL AND license_code IS NULL;
    `,
  },
  {
    version: 14,
    name: 'indexes for unknown phones per source address and users per tenant',
    sql: `
      -- The bound on unknown phones one address may record is checked at each new
      -- one; counted through this index, not by reading every device.
      CREATE INDEX devices_auto_source ON devices(source_ip) WHERE source = 'auto' AND user_name IS NULL;

      -- A tenant's users, a page at a time in name order.
      CREATE INDEX users_tenant ON users(tenant_id, builtin DESC, user_name);
    `,
  },
  {
    version: 16,
    name: 'daily usage peaks (the overview chart)',
    sql: `
      -- Beside the monthly peaks of the usage report: one row per day and code, for the
      -- admin's 30-day chart. Old days are pruned when a new day begins.
      CREATE TABLE usage_daily_peaks (
        day TEXT NOT NULL,
        code TEXT NOT NULL,
        peak INTEGER NOT NULL,
        PRIMARY KEY (day, code)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 18,
    name: 'provisioning keys, device locks and enrolment windows',
    sql: `
      -- The site provisioning key phones fetch under (/<key>/...). One row has no expiry (the current key);
      -- a rotated-out key keeps working until its expires_at.
      CREATE TABLE provisioning_keys (
        key TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        expires_at TEXT
      );
      -- Where a device may fetch its credentials from: locked to the address of its first successful
      -- credential fetch, or pinned to a subnet. pending_ip: another address was refused (the badge).
      CREATE TABLE device_locks (
        mac TEXT PRIMARY KEY REFERENCES devices(mac) ON DELETE CASCADE,
        ip TEXT,
        subnet TEXT,
        locked_at TEXT,
        enrol_until TEXT,
        pending_ip TEXT,
        pending_at TEXT,
        pending_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX device_locks_pending ON device_locks(pending_at) WHERE pending_ip IS NOT NULL;
      -- The enrolment window for all devices (one row, id 1): locked devices may move until "until".
      CREATE TABLE enrolment_window (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        until TEXT NOT NULL
      );
    `,
  },
  {
    version: 19,
    name: 'a digest password of its own per provisioning key',
    sql: `
      -- The HTTP digest password was derived from the site key, which DHCP options carry to anyone on the
      -- phone LAN; a key made from now on has a random password of its own. NULL: a key made before,
      -- whose password stays the derived one until the key is rotated (phones already set keep working).
      ALTER TABLE provisioning_keys ADD COLUMN digest_password TEXT;
    `,
  },
];
