/*
 * threads.c - the gateway's memory of sealed threads (threads.h).
 */
#include "threads.h"

#include "sp_error.h"

#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

struct mt_threads {
    sqlite3 *db;
    GMutex lock;
    gint64 pruned; /* Unix seconds of the last pruning */
};

static bool exec(sqlite3 *db, const char *sql, GError **err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    g_set_error(err, SP_ERROR, SP_ERR_IO, "the thread store: %s", msg ? msg : "failed");
    sqlite3_free(msg);
    return false;
}

mt_threads *threads_open(const char *path, GError **err)
{
    mt_threads *t = g_new0(mt_threads, 1);
    g_mutex_init(&t->lock);
    mode_t old = umask(077);
    int rc =
        sqlite3_open_v2(path ? path : ":memory:", &t->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    umask(old);
    if (rc != SQLITE_OK) {
        g_set_error(err, SP_ERROR, SP_ERR_IO, "cannot open the thread store %s: %s",
                    path ? path : ":memory:", t->db ? sqlite3_errmsg(t->db) : "out of memory");
        threads_close(t);
        return NULL;
    }
    sqlite3_busy_timeout(t->db, 5000);
    if (!exec(t->db,
              "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS threads("
              "message_id TEXT PRIMARY KEY, seen INTEGER NOT NULL) WITHOUT ROWID;"
              "CREATE INDEX IF NOT EXISTS threads_seen ON threads(seen);",
              err)) {
        g_prefix_error(err, "%s: ", path ? path : ":memory:");
        threads_close(t);
        return NULL;
    }
    return t;
}

void threads_close(mt_threads *t)
{
    if (!t)
        return;
    sqlite3_close(t->db);
    g_mutex_clear(&t->lock);
    g_free(t);
}

/* "<id>" or "id" -> "id" (g_free), or NULL for an empty one. */
static char *bare(const char *id)
{
    g_autofree char *s = g_strstrip(g_strdup(id));
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>')
        return n > 2 ? g_strndup(s + 1, n - 2) : NULL;
    return n ? g_steal_pointer(&s) : NULL;
}

void threads_add(mt_threads *t, const char *message_id)
{
    g_autofree char *id = message_id ? bare(message_id) : NULL;
    if (!t || !id)
        return;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_mutex_lock(&t->lock);
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(t->db, "INSERT OR REPLACE INTO threads VALUES(?, ?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        g_warning("the thread store: %s", sqlite3_errmsg(t->db));
    if (now - t->pruned > 86400) {
        t->pruned = now;
        g_autofree char *sql = g_strdup_printf("DELETE FROM threads WHERE seen < %" G_GINT64_FORMAT,
                                               now - (gint64)THREADS_KEEP_DAYS * 86400);
        g_autoptr(GError) err = NULL;
        if (!exec(t->db, sql, &err))
            g_warning("%s", err->message);
    }
    g_mutex_unlock(&t->lock);
}

bool threads_any(mt_threads *t, GPtrArray *ids)
{
    if (!t || !ids->len)
        return false;
    bool found = false;
    g_mutex_lock(&t->lock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM threads WHERE message_id = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        for (guint i = 0; i < ids->len && !found; i++) {
            g_autofree char *id = bare(ids->pdata[i]);
            if (!id)
                continue;
            sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
            found = sqlite3_step(st) == SQLITE_ROW;
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    g_mutex_unlock(&t->lock);
    return found;
}
