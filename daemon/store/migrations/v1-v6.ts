import type { Migration } from './migration.js';

/** The tables of the first features, as they shipped (versions 1–6). Never edit: add the next migration. */
export const firstTables: Migration[] = [
  {
    version: 1,
    name: 'foundation: settings, licenses, admins, audit',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- Every license file ever staged. Exactly one row at most is 'active'.
      CREATE TABLE licenses (
        id INTEGER PRIMARY KEY,
        license_id TEXT NOT NULL,
        text TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('staged', 'active', 'superseded', 'discarded')),
        staged_at TEXT NOT NULL,
        staged_by TEXT NOT NULL,
        activated_at TEXT,
        activated_by TEXT
      );
      CREATE UNIQUE INDEX licenses_one_active ON licenses(state) WHERE state = 'active';

      CREATE TABLE admins (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
      );

      -- Browser sessions and API tokens; only a hash of the secret is kept.
      CREATE TABLE admin_tokens (
        id INTEGER PRIMARY KEY,
        admin_id INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'api')),
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT,
        csrf TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT
      );

      -- Hash-chained: each row carries the hash of the one before it.
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_action ON audit(action);
    `,
  },
  {
    version: 2,
    name: 'users, tenants with seat pools, per-user licenses',
    sql: `
      -- A company on a shared appliance, with its own pool of user seats.
      CREATE TABLE tenants (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        seats INTEGER NOT NULL CHECK (seats >= 0),
        created_at TEXT NOT NULL
      );

      -- status 'active' takes a seat; 'pending' came from a directory sync beyond the free seats.
      -- builtin: the appliance's own supervisor account (takes no seat).
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        tenant_id INTEGER REFERENCES tenants(id),
        extension TEXT,
        status TEXT NOT NULL CHECK (status IN ('active', 'pending')),
        builtin INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL DEFAULT 'admin',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        pending_since TEXT,
        last_active_at TEXT
      );
      CREATE UNIQUE INDEX users_extension ON users(extension) WHERE extension IS NOT NULL;
      CREATE INDEX users_status ON users(status, tenant_id);

      -- Per-user license codes held by users. suspended: kept but not in force
      -- (beyond the allowance after a fall to Entry), restored when a license covers it again.
      CREATE TABLE user_licenses (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code TEXT NOT NULL,
        assigned_at TEXT NOT NULL,
        suspended INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, code)
      );
      CREATE INDEX user_licenses_code ON user_licenses(code, suspended);
    `,
  },
  {
    version: 3,
    name: 'devices: provisioned phones and DECT bases, their line and support license',
    sql: `
      -- One row per device seen by the provisioning server or added by an admin.
      -- license_code: the support license it holds ('devices.cisco' / 'devices.unify'),
      -- kept until released. waiting_since: when it first asked for one and none was
      -- free; waiting devices get licenses in that order.
      CREATE TABLE devices (
        mac TEXT PRIMARY KEY CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),
        vendor TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        firmware TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL CHECK (source IN ('auto', 'admin')),
        source_ip TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        last_seen TEXT,
        last_ip TEXT,
        blocked INTEGER NOT NULL DEFAULT 0,
        user_name TEXT COLLATE NOCASE,
        line INTEGER NOT NULL DEFAULT 1,
        display_name TEXT NOT NULL DEFAULT '',
        sip_user TEXT NOT NULL DEFAULT '',
        -- generated at assignment; goes only into this device's own configuration
        sip_password TEXT NOT NULL DEFAULT '',
        license_code TEXT,
        licensed_at TEXT,
        waiting_since TEXT
      );
      CREATE INDEX devices_license ON devices(license_code) WHERE license_code IS NOT NULL;
      CREATE INDEX devices_waiting ON devices(vendor, waiting_since) WHERE waiting_since IS NOT NULL;
      CREATE INDEX devices_user ON devices(user_name);
    `,
  },
  {
    version: 4,
    name: 'license lifecycle: scheduled licenses, monthly usage peaks',
    sql: `
      -- A license whose valid-from lies ahead waits in state 'scheduled' until the
      -- scheduler activates it. SQLite cannot alter a CHECK, so the table is rebuilt
      -- (nothing references it by foreign key).
      CREATE TABLE licenses_v4 (
        id INTEGER PRIMARY KEY,
        license_id TEXT NOT NULL,
        text TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('staged', 'scheduled', 'active', 'superseded', 'discarded')),
        staged_at TEXT NOT NULL,
        staged_by TEXT NOT NULL,
        activated_at TEXT,
        activated_by TEXT
      );
      INSERT INTO licenses_v4 SELECT id, license_id, text, payload, state, staged_at, staged_by, activated_at, activated_by FROM licenses;
      DROP TABLE licenses;
      ALTER TABLE licenses_v4 RENAME TO licenses;
      CREATE UNIQUE INDEX licenses_one_active ON licenses(state) WHERE state = 'active';
      CREATE UNIQUE INDEX licenses_one_scheduled ON licenses(state) WHERE state = 'scheduled';

      -- The highest use of each code per month (YYYY-MM), for the signed usage report.
      CREATE TABLE usage_peaks (
        month TEXT NOT NULL,
        code TEXT NOT NULL,
        peak INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (month, code)
      );
    `,
  },
  {
    version: 5,
    name: 'auto attendants with business hours, SIP trunks',
    sql: `
      -- An auto attendant answers its numbers; its schedule (JSON: time zone,
      -- weekly hours, holidays) decides whether callers get in_hours or out_of_hours.
      -- state/state_since: what the scheduler last switched it to (what callers get now).
      CREATE TABLE auto_attendants (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        schedule TEXT NOT NULL,
        in_hours TEXT NOT NULL,
        out_of_hours TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        state_since TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- A dialled number reaches exactly one attendant.
      CREATE TABLE auto_attendant_numbers (
        number TEXT PRIMARY KEY,
        attendant_id INTEGER NOT NULL REFERENCES auto_attendants(id) ON DELETE CASCADE,
        position INTEGER NOT NULL
      );
      CREATE INDEX auto_attendant_numbers_attendant ON auto_attendant_numbers(attendant_id);

      -- password: kept in clear because the PBX must present it to the carrier;
      -- never returned by the API, never logged. channels = 0: configured but carries no calls.
      CREATE TABLE sip_trunks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        registrar TEXT NOT NULL,
        username TEXT NOT NULL,
        password TEXT NOT NULL,
        channels INTEGER NOT NULL CHECK (channels >= 0),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'client sessions: admin-issued client tokens, user passwords',
    sql: `
      -- Tokens the admin issues for a user's clients (desktop, app, TAPI, console); only a hash is kept.
      CREATE TABLE client_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        last_used_at TEXT
      );
      CREATE INDEX client_tokens_user ON client_tokens(user_id);

      -- A user's own password for client logins (scrypt), optional beside tokens.
      CREATE TABLE user_credentials (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        password_hash TEXT NOT NULL,
        changed_at TEXT NOT NULL
      );
    `,
  },
];
