/**
 * Schema migrations of a project file, applied in order by PRAGMA user_version.
 * Step N brings a file from version N to N+1; each runs in its own transaction, so a crash between
 * steps leaves a file at a known version. Never edit a step that has shipped: append a new one.
 */
export const migrations: readonly string[] = [
  // 0 -> 1: the first schema
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE sources (
    id                  INTEGER PRIMARY KEY,
    folder              TEXT NOT NULL UNIQUE,
    labels_from_folders INTEGER NOT NULL DEFAULT 1,
    last_import_at      TEXT
  );

  CREATE TABLE classes (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    color TEXT NOT NULL
  );

  CREATE TABLE images (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    source_id    INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    bytes        INTEGER NOT NULL,
    -- NULL when the file could not be read: such a row is always re-read on the next import
    mtime_ms     REAL,
    hash         TEXT,
    status       TEXT NOT NULL CHECK (status IN ('ok', 'rejected', 'duplicate')),
    reason       TEXT,
    duplicate_of INTEGER REFERENCES images(id) ON DELETE SET NULL,
    -- dimensions after EXIF orientation, i.e. as the image is shown and trained on
    width        INTEGER,
    height       INTEGER,
    format       TEXT,
    class_id     INTEGER REFERENCES classes(id) ON DELETE SET NULL,
    label_source TEXT CHECK (label_source IN ('folder', 'user')),
    labeled_at   TEXT,
    split        TEXT CHECK (split IN ('train', 'val', 'test')),
    missing      INTEGER NOT NULL DEFAULT 0,
    imported_at  TEXT NOT NULL
  );

  -- one usable image per content: a second copy becomes a 'duplicate' row
  CREATE UNIQUE INDEX images_ok_hash ON images(hash) WHERE status = 'ok';
  -- the grid: filter by status/missing/class, ordered by path inside a class
  CREATE INDEX images_grid ON images(status, missing, class_id, path);
  -- the same for the grid filtered by split, and the split totals
  CREATE INDEX images_grid_split ON images(status, missing, split, class_id, path);
  CREATE INDEX images_source ON images(source_id);
  CREATE INDEX images_duplicate_of ON images(duplicate_of);

  CREATE TABLE thumbnails (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    webp     BLOB NOT NULL
  );
  `,

  // 1 -> 2: training runs with their per-epoch history, and the embeddings cache of head-only training
  `
  CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    -- why the run ended or paused, in words
    reason         TEXT,
    -- the training configuration as JSON
    config         TEXT NOT NULL,
    backend        TEXT,
    variant        TEXT NOT NULL,
    resolution     INTEGER NOT NULL,
    -- JSON array of class names in the order of the model outputs
    classes        TEXT NOT NULL,
    best_epoch     INTEGER,
    best_val_loss  REAL,
    checkpoint_dir TEXT,
    finished_at    TEXT
  );
  CREATE INDEX runs_status ON runs(status);

  CREATE TABLE epochs (
    run_id            INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch             INTEGER NOT NULL,
    -- NULL when the value was not a finite number (a diverged loss)
    train_loss        REAL,
    train_acc         REAL,
    val_loss          REAL,
    val_acc           REAL,
    images_per_second REAL NOT NULL,
    seconds           REAL NOT NULL,
    lr                REAL NOT NULL,
    batch             INTEGER NOT NULL,
    at                TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch)
  ) WITHOUT ROWID;

  -- backbone features per image content, so head-only training only computes new images
  CREATE TABLE embeddings (
    hash        TEXT NOT NULL,
    weights_key TEXT NOT NULL,
    resolution  INTEGER NOT NULL,
    dim         INTEGER NOT NULL,
    -- dim float32 values, little-endian
    vector      BLOB NOT NULL,
    -- a rowid table: WITHOUT ROWID suits small rows only, and a vector is kilobytes
    PRIMARY KEY (hash, weights_key, resolution)
  );
  `,

  // 2 -> 3: notes of a training run (a batch halved after running out of memory, skipped images, ...)
  `
  CREATE TABLE run_notes (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('oom', 'skipped', 'info', 'warning')),
    message TEXT NOT NULL
  );
  CREATE INDEX run_notes_run ON run_notes(run_id, id);
  `,
];

export const schemaVersion = migrations.length;
