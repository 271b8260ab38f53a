import type pg from 'pg'

/** One step of the schema, applied once and recorded in schema_migrations under its version. */
export interface Migration {
  version: number
  name: string
  sql: string
}

/** The channel on which PostgreSQL announces a user whose tokens must go (see migration 1). */
export const USER_REVOKED_CHANNEL = 'token_auth_user_revoked'

/**
 * The schema, in order. Append, never edit: an applied version is not run again.
 * Names are unqualified, so they land in the first schema of the search_path
 * (`public` unless DATABASE_URL says `?options=-c search_path=...`).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create users',
    sql: `
      CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        email text NOT NULL CHECK (email <> '' AND length(email) <= 254),
        password_hash text NOT NULL CHECK (password_hash LIKE '$argon2%'),
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- Emails are compared without regard to case: one user per lower-cased email.
      CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

      -- Disabling or deleting a user, from the command line or by hand in SQL, tells
      -- every listening server (on commit) to revoke that user's tokens.
      CREATE FUNCTION users_notify_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${USER_REVOKED_CHANNEL}', json_build_object('schema', TG_TABLE_SCHEMA, 'username', OLD.email)::text);
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER users_revoke_on_disable AFTER UPDATE OF disabled ON users
        FOR EACH ROW WHEN (NEW.disabled) EXECUTE FUNCTION users_notify_revoked();
      CREATE TRIGGER users_revoke_on_delete AFTER DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION users_notify_revoked();
    `
  },
  {
    version: 2,
    name: 'rename users.email to username',
    // One name for the login name, in the database as in the code. The check constraint
    // and the index follow the column; the trigger function names it in its text, so it
    // is replaced; the index gets the column's name too.
    sql: `
      ALTER TABLE users RENAME COLUMN email TO username;
      ALTER INDEX users_email_lower_key RENAME TO users_username_lower_key;
      CREATE OR REPLACE FUNCTION users_notify_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${USER_REVOKED_CHANNEL}', json_build_object('schema', TG_TABLE_SCHEMA, 'username', OLD.username)::text);
        RETURN NULL;
      END
      $$;
    `
  }
]

export interface MigrationOutcome {
  /** The migrations this call applied, in order; empty when the schema was up to date. */
  applied: Migration[]
  /** The highest version recorded once done. */
  version: number
}

/** Two keys for pg_advisory_xact_lock: this constant and a hash of the schema, so schemas migrate independently. */
const LOCK_NAMESPACE = 0x7a11

/**
 * Applies the migrations that schema_migrations does not list, in one transaction under
 * an advisory lock: instances starting together wait for each other, and the later ones
 * find nothing to do. Idempotent. `client` is a connection of its own (not a pool),
 * since the transaction needs one; it is left open.
 */
export async function runMigrations (client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationOutcome> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), \'\')))', [LOCK_NAMESPACE])
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`)
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations')
    const done = new Set(rows.map((row) => row.version))
    const applied: Migration[] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name])
      applied.push(migration)
      done.add(migration.version)
    }
    await client.query('COMMIT')
    return { applied, version: Math.max(0, ...done) }
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  }
}
