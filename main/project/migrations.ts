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
  // 3 -> 4: labeling. Classes get an order; images can be excluded from training and moved between
  // splits by hand; every label change is kept in label_history (who, when, source); edits is the
  // persisted undo/redo journal. images.label_source keeps its old CHECK ('folder', 'user'): changing
  // a CHECK means rebuilding the table, so the finer source (model suggestion, CSV) lives in label_history.
  `
  ALTER TABLE classes ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
  UPDATE classes SET position = id;

  -- 1: excluded from training and evaluation by the user (bad or irrelevant); the file stays
  ALTER TABLE images ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
  -- who set the current label: a user name, or 'run <id>' for an accepted suggestion
  ALTER TABLE images ADD COLUMN labeled_by TEXT;
  -- 'user' when moved between splits by hand (a re-split keeps it); NULL when dealt by split.run
  ALTER TABLE images ADD COLUMN split_source TEXT CHECK (split_source IN ('user'));

  -- one row per undoable action (a labeling, a class edit, a merge, a CSV import ...)
  CREATE TABLE edits (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    -- in words, for the undo/redo menu: "label 12 images as cat"
    summary TEXT NOT NULL,
    -- JSON: the changes to apply again on redo, and to apply on undo
    redo    TEXT NOT NULL,
    undo    TEXT NOT NULL,
    -- 1 once undone; a new edit drops the undone ones (the redo branch)
    undone  INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE label_history (
    id         INTEGER PRIMARY KEY,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    at         TEXT NOT NULL,
    -- class names at the time (a class may be renamed or deleted later); NULL = unlabeled
    from_class TEXT,
    to_class   TEXT,
    source     TEXT NOT NULL CHECK (source IN ('user', 'folder', 'model', 'csv', 'json', 'merge', 'delete', 'undo', 'redo')),
    who        TEXT NOT NULL,
    edit_id    INTEGER REFERENCES edits(id) ON DELETE SET NULL
  );
  CREATE INDEX label_history_image ON label_history(image_id, id);
  CREATE INDEX images_excluded ON images(excluded) WHERE excluded = 1;
  -- the grid walks classes in their order, then each class's images by the images_grid index
  CREATE INDEX classes_order ON classes(position, id);
  -- a class created without a position (the folder import) goes last
  CREATE TRIGGER classes_position_last AFTER INSERT ON classes WHEN NEW.position = 0
  BEGIN
    UPDATE classes SET position = (SELECT MAX(position) FROM classes) + 1 WHERE id = NEW.id;
  END;
  `,

  // 4 -> 5: evaluation. Predictions of a run per image (by content hash, so a changed file is predicted
  // again), the stored evaluations of a run per split, and the exports made from a run.
  `
  CREATE TABLE predictions (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    -- index into the run's classes (runs.classes)
    top_class  INTEGER NOT NULL,
    confidence REAL NOT NULL,
    -- float32 little-endian, one per class of the run
    probs      BLOB NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (run_id, image_id)
  );

  CREATE TABLE evaluations (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    split    TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
    -- digest of what was evaluated (image ids, hashes, labels, classes): stale when any changed
    data_key TEXT NOT NULL,
    at       TEXT NOT NULL,
    -- JSON of the Evaluation shape in main/contract/calls-eval.ts
    result   TEXT NOT NULL,
    PRIMARY KEY (run_id, split)
  );

  CREATE TABLE exports (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    format        TEXT NOT NULL CHECK (format IN ('tfjs', 'onnx')),
    quantize      TEXT NOT NULL CHECK (quantize IN ('none', 'float16', 'uint8')),
    dir           TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    test_accuracy REAL,
    -- JSON of the ExportResult shape in main/contract/calls-export.ts
    report        TEXT NOT NULL
  );
  CREATE INDEX exports_run ON exports(run_id, id);
  `,
  // 5 -> 6: the class ids of a run beside their names, so a class renamed after training keeps its
  // place in the run (evaluation, suggestions, exports show and match the current name). Existing
  // runs get the ids of the classes that have their names now.
  `
  ALTER TABLE runs ADD COLUMN class_ids TEXT;
  UPDATE runs SET class_ids = (
    SELECT json_group_array(id) FROM (
      SELECT (SELECT c.id FROM classes c WHERE c.name = j.value) AS id FROM json_each(runs.classes) j ORDER BY j.key
    )
  );
  `,
  // 6 -> 7: the validation images per class of a run (JSON array in the order of runs.classes), so a
  // run can say whether its accuracy beats always answering the largest class. Existing runs get the
  // counts of the current validation split, the best that is known about them.
  `
  ALTER TABLE runs ADD COLUMN val_counts TEXT;
  UPDATE runs SET val_counts = (
    SELECT json_group_array(n) FROM (
      SELECT (SELECT COUNT(*) FROM images i
              WHERE i.class_id = j.value AND i.split = 'val' AND i.status = 'ok' AND i.missing = 0 AND i.excluded = 0) AS n
      FROM json_each(runs.class_ids) j ORDER BY j.key
    )
  )
  WHERE class_ids IS NOT NULL;
  `,
  // 7 -> 8: label history by edit, so dropping an undone edit's rows (and the edit_id cleared when an
  // old edit leaves the journal) finds them without reading the whole history
  `
  CREATE INDEX label_history_edit ON label_history(edit_id);
  `,
  // 8 -> 9: who trains a run (run-owner.ts): the trainer process and the app that started it, each
  // a pid and the process's start mark, their host, and the trainer's heartbeat. A run left running
  // or paused whose trainer and app are both gone is closed as resumable when it is next read.
  `
  ALTER TABLE runs ADD COLUMN trainer_host TEXT;
  ALTER TABLE runs ADD COLUMN trainer_pid INTEGER;
  ALTER TABLE runs ADD COLUMN trainer_start TEXT;
  ALTER TABLE runs ADD COLUMN app_pid INTEGER;
  ALTER TABLE runs ADD COLUMN app_start TEXT;
  ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
  `,
  // 9 -> 10: the compound-scaling lab (main/scaling/): a search, its candidates (each trained as an
  // ordinary run), and the custom families chosen from a search (α, β, γ above a base φ). A search
  // recorded as running whose owner process is gone was interrupted and can be resumed.
  `
  CREATE TABLE scaling_searches (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'completed', 'failed')),
    reason      TEXT,
    -- JSON of the SearchPlan shape in main/contract/calls-scaling.ts
    plan        TEXT NOT NULL,
    -- which images are in the train and validation splits when the search began (a re-split stops a resume)
    split_key   TEXT NOT NULL,
    -- the process driving it (run-owner.ts marks), so a search whose driver is gone reads as stopped
    owner_pid   INTEGER,
    owner_start TEXT,
    owner_host  TEXT,
    -- seconds the search has spent training so far, over all its sessions (its time budget counts these)
    elapsed_seconds REAL NOT NULL DEFAULT 0
  );
  CREATE TABLE scaling_candidates (
    id                INTEGER PRIMARY KEY,
    search_id         INTEGER NOT NULL REFERENCES scaling_searches(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    role              TEXT NOT NULL,
    alpha             REAL NOT NULL,
    beta              REAL NOT NULL,
    gamma             REAL NOT NULL,
    phi               REAL NOT NULL,
    model             TEXT NOT NULL,
    seed              INTEGER NOT NULL,
    repeat_of         INTEGER REFERENCES scaling_candidates(id) ON DELETE CASCADE,
    run_id            INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'training', 'waiting', 'pruned', 'finished', 'failed')),
    epochs_done       INTEGER NOT NULL DEFAULT 0,
    flops             REAL NOT NULL,
    params            INTEGER NOT NULL,
    resolution        INTEGER NOT NULL,
    val_acc           REAL,
    val_loss          REAL,
    seconds_per_image REAL,
    peak_memory_bytes REAL,
    reason            TEXT,
    updated_at        TEXT NOT NULL,
    UNIQUE (search_id, position)
  );
  CREATE INDEX scaling_candidates_search ON scaling_candidates(search_id, position);
  CREATE TABLE scaling_families (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    search_id    INTEGER REFERENCES scaling_searches(id) ON DELETE SET NULL,
    candidate_id INTEGER REFERENCES scaling_candidates(id) ON DELETE SET NULL,
    alpha        REAL NOT NULL,
    beta         REAL NOT NULL,
    gamma        REAL NOT NULL,
    base_phi     REAL NOT NULL,
    created_at   TEXT NOT NULL
  );
  `,
  // 10 -> 11: the raw bytes of an image path that is not valid UTF-8 (a Latin-1 "caf\xE9.png" made on
  // Linux), which no text opens; images.path then holds its readable, escaped text form
  // (main/dataset/file-name-bytes.ts). NULL for every other image: their text is their path.
  `
  ALTER TABLE images ADD COLUMN path_bytes BLOB;
  `,
];

export const schemaVersion = migrations.length;
