/* schema_twins.c — the twin graph's tables: digital twins, relationships, the event outbox,
 * and the model-ancestry view the query compiler uses for IS_OF_MODEL.
 *
 * Written for whoever compiles ADT queries to SQL over it:
 *
 *   twins(rowid, instance_id, id, model_id, etag, doc)
 *     One row per twin. `doc` is the whole twin exactly as GET /digitaltwins/{id} returns it
 *     ($dtId, $etag, properties, components each with their own $metadata, and $metadata with
 *     $model, $lastUpdateTime and per-property lastUpdateTime/sourceTime), so property access is
 *     json_extract(doc, '$.prop') / '$.comp.prop' and SELECT * is `doc` as stored. `model_id`
 *     repeats $metadata.$model and `id` repeats $dtId so they can be indexed. instance_id is the
 *     instance's GUID (dt_instances.id); ids are case-sensitive (BINARY collation), as ADT's are.
 *     rowid is stable for a twin's life: a query can page on it.
 *
 *   relationships(rowid, instance_id, source_id, id, target_id, name, etag, doc)
 *     One row per relationship; (instance_id, source_id, id) is unique, as ADT's ids are unique
 *     per source twin. `doc` is the relationship as GET returns it ($relationshipId,
 *     $sourceId, $targetId, $relationshipName, $etag, properties). Indexed by source (with name,
 *     for relationshipName filters and maxMultiplicity counts) and by target (incoming lists,
 *     MATCH walking edges backwards). A relationship's ends always exist: a twin cannot be
 *     deleted while it has relationships either way.
 *
 *   outbox(seq, instance_id, type, subject, event, created)
 *     One row per ADT notification, written in the transaction of the change it reports, so an
 *     event exists exactly when its change committed. `event` is the CloudEvents structured-mode
 *     JSON (specversion, id, source, type, subject, time, datacontenttype, dataschema for
 *     telemetry, traceparent when the request carried one, data). seq orders delivery.
 *
 *   model_ancestry(instance_id, model_id, ancestor_id, depth)  — a VIEW
 *     Every (model, model-or-ancestor) pair of each instance, depth 0 for the model itself,
 *     derived from the models module's `extends` edges, so
 *       IS_OF_MODEL(T, 'm')        -> T.model_id IN (SELECT model_id FROM model_ancestry
 *                                     WHERE instance_id = ? AND ancestor_id = 'm')
 *       IS_OF_MODEL(T, 'm', exact) -> T.model_id = 'm'
 *     The models module keys its rows by the lower-cased instance name; the view joins them to
 *     the instance GUID through dt_instances.
 *
 *   outbox has no index by instance (step 4 dropped outbox_instance): delivery reads it by seq.
 *   Since step 6 seq is a plain INTEGER PRIMARY KEY (no AUTOINCREMENT); the newest row is never
 *   trimmed, so seqs only grow.
 *
 *   Index twins_model_id(instance_id, model_id, id)                         (step 3)
 *     Model filters, counts per model, and a model filter with a $dtId range answered from
 *     the index alone.
 *
 *   twin_counts(instance_id, model_id, n)                                   (step 4)
 *     How many twins of each model each instance has, kept exact by triggers on `twins`, so
 *       SELECT COUNT() ... WHERE IS_OF_MODEL('m') -> SELECT sum(n) FROM twin_counts
 *                                                   WHERE instance_id = ? AND model_id IN (...)
 *
 *   telemetry_ids(rowid, instance_id, twin_id, message_id, created)        (step 2)
 *     The Message-Ids of telemetry already turned into events, per twin, for ADT's
 *     de-duplication: a message sent again within CASTOR_TELEMETRY_DEDUP_S of the first is
 *     acknowledged without a second event. Old rows are pruned a few at a time by the writes.
 */
#include "store/sqlite/sqlite_schema.h"

static const char *const steps[] = {
    "CREATE TABLE twins ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  id TEXT NOT NULL, model_id TEXT NOT NULL, etag TEXT NOT NULL, doc TEXT NOT NULL,"
    "  UNIQUE (instance_id, id));"
    "CREATE INDEX twins_model ON twins(instance_id, model_id);"
    "CREATE TABLE relationships ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  source_id TEXT NOT NULL, id TEXT NOT NULL, target_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, etag TEXT NOT NULL, doc TEXT NOT NULL,"
    "  UNIQUE (instance_id, source_id, id));"
    "CREATE INDEX relationships_source ON relationships(instance_id, source_id, name);"
    "CREATE INDEX relationships_target ON relationships(instance_id, target_id);"
    "CREATE TABLE outbox ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  type TEXT NOT NULL, subject TEXT NOT NULL, event TEXT NOT NULL,"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX outbox_instance ON outbox(instance_id, seq);"
    "CREATE VIEW model_ancestry (instance_id, model_id, ancestor_id, depth) AS"
    "  WITH RECURSIVE anc(instance, model_id, ancestor_id, depth) AS ("
    "    SELECT instance, id, id, 0 FROM models"
    "    UNION"
    "    SELECT a.instance, a.model_id, r.ref_id, a.depth + 1 FROM anc a"
    "      JOIN model_refs r ON r.instance = a.instance AND r.model_id = a.ancestor_id"
    "       AND r.kind = 'extends'"
    "    WHERE a.depth < 64)"
    "  SELECT d.id, anc.model_id, anc.ancestor_id, min(anc.depth) FROM anc"
    "    JOIN dt_instances d ON d.name = anc.instance"
    "  GROUP BY d.id, anc.model_id, anc.ancestor_id;",
    "CREATE TABLE telemetry_ids ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  twin_id TEXT NOT NULL, message_id TEXT NOT NULL, created INTEGER NOT NULL,"
    "  UNIQUE (instance_id, twin_id, message_id));"
    "CREATE INDEX telemetry_ids_created ON telemetry_ids(created);",
    /* Step 3: IS_OF_MODEL with a $dtId prefix or pin seeks (model, id) ranges in the index
     * instead of fetching every twin of the id range to read its model_id (200k twins: the
     * Room + STARTSWITH question read ~10,000 rows for ~500). Subsumes twins_model. */
    "CREATE INDEX twins_model_id ON twins(instance_id, model_id, id);"
    "DROP INDEX twins_model;",
    /* Step 4: twin_counts, so SELECT COUNT() with no filter but IS_OF_MODEL sums a few rows
     * instead of scanning ~90,000 index entries of a 200k-twin graph. Kept by triggers in the
     * twin's own statement, so a count is exactly the rows of `twins` in every transaction;
     * the upsert of store_twin_put fires the UPDATE trigger; an instance's delete cascades to
     * both tables (either order leaves no row). Rows reaching 0 are removed. */
    "CREATE TABLE twin_counts ("
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  model_id TEXT NOT NULL, n INTEGER NOT NULL,"
    "  PRIMARY KEY (instance_id, model_id)) WITHOUT ROWID;"
    "INSERT INTO twin_counts SELECT instance_id, model_id, count(*) FROM twins"
    "  GROUP BY instance_id, model_id;"
    "CREATE TRIGGER twin_counts_insert AFTER INSERT ON twins BEGIN"
    "  INSERT INTO twin_counts VALUES (NEW.instance_id, NEW.model_id, 1)"
    "    ON CONFLICT (instance_id, model_id) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER twin_counts_delete AFTER DELETE ON twins BEGIN"
    "  UPDATE twin_counts SET n = n - 1"
    "    WHERE instance_id = OLD.instance_id AND model_id = OLD.model_id;"
    "  DELETE FROM twin_counts"
    "    WHERE instance_id = OLD.instance_id AND model_id = OLD.model_id AND n <= 0;"
    "END;"
    "CREATE TRIGGER twin_counts_update AFTER UPDATE OF instance_id, model_id ON twins"
    "  WHEN OLD.instance_id IS NOT NEW.instance_id OR OLD.model_id IS NOT NEW.model_id BEGIN"
    "  UPDATE twin_counts SET n = n - 1"
    "    WHERE instance_id = OLD.instance_id AND model_id = OLD.model_id;"
    "  DELETE FROM twin_counts"
    "    WHERE instance_id = OLD.instance_id AND model_id = OLD.model_id AND n <= 0;"
    "  INSERT INTO twin_counts VALUES (NEW.instance_id, NEW.model_id, 1)"
    "    ON CONFLICT (instance_id, model_id) DO UPDATE SET n = n + 1;"
    "END;",
    /* Step 5: every event paid a third B-tree write (and WAL page, synced) for this index, and
     * only store_outbox_each -- tests -- reads by instance; it now walks the outbox in seq
     * (rowid) order, and deleting an instance scans the outbox once for its cascade. seq
     * stays AUTOINCREMENT, so it never goes back. */
    "DROP INDEX outbox_instance;",
    /* Step 6: the outbox without AUTOINCREMENT, which cost every event a read and a write of
     * sqlite_sequence. A plain INTEGER PRIMARY KEY takes max(seq) + 1, so seqs could only be
     * reused if the newest row were deleted: trimming (store_outbox_trim) always keeps it,
     * so every delivery cursor stays below every future seq. */
    "CREATE TABLE outbox_v6 ("
    "  seq INTEGER PRIMARY KEY,"
    "  instance_id TEXT NOT NULL REFERENCES dt_instances(id) ON DELETE CASCADE,"
    "  type TEXT NOT NULL, subject TEXT NOT NULL, event TEXT NOT NULL,"
    "  created INTEGER NOT NULL);"
    "INSERT INTO outbox_v6 SELECT seq, instance_id, type, subject, event, created FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v6 RENAME TO outbox;"
    "DELETE FROM sqlite_sequence WHERE name = 'outbox';",
};

const sqlite_schema_module_t sqlite_schema_twins = SQLITE_SCHEMA_STEPS("twins", steps);
