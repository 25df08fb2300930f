/*
 * scan_decide.c - the policy engine's second half: which validated
 * findings count (context keywords within the window), the HIPAA
 * composite, the score, and the first rule of the policy that fires.
 */
#include "scan_int.h"

#include <string.h>

/* Order of marks: by part, then position (binary search in near()). */
static gint by_place(gconstpointer a, gconstpointer b)
{
    const finding *x = a, *y = b;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos ? 1 : 0;
}

/* Whether marks (sorted by_place) hold, in part and within window of pos,
 * one of detector det (or, by_kind, of that kind). Starts at the first
 * mark at or after pos - window: work is logarithmic plus the marks in the
 * window, not the whole list for every finding. */
static bool near(const GArray *marks, int det, guint part, gsize pos, gsize window, bool by_kind,
                 sp_kind kind)
{
    gsize lo_pos = pos > window ? pos - window : 0;
    guint lo = 0, hi = marks->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const finding *m = &g_array_index(marks, finding, mid);
        if (m->part < part || (m->part == part && m->pos < lo_pos))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (guint i = lo; i < marks->len; i++) {
        const finding *k = &g_array_index(marks, finding, i);
        if (k->part != part || k->pos > pos + window)
            break;
        if (by_kind ? sp_detectors[k->det].kind == kind : k->det == det)
            return true;
    }
    return false;
}

static unsigned band_weight(sp_band b)
{
    static const unsigned w[] = {0, 1, 3, 10, 25};
    return w[b];
}

const char *sp_band_name(sp_band b)
{
    static const char *const names[] = {"none", "low", "medium", "high", "critical"};
    return b <= SP_BAND_CRITICAL ? names[b] : "none";
}

const char *sp_action_name(sp_action a)
{
    static const char *const names[] = {"encrypt", "deliver", "tag", "reject"};
    return a <= SP_ACT_REJECT ? names[a] : "deliver";
}

static void hit_clear(gpointer p)
{
    sp_hit *h = p;
    g_free(h->where);
    if (h->values)
        g_ptr_array_unref(h->values);
}

void sp_scan_result_clear(sp_scan_result *r)
{
    if (r->hits)
        g_array_unref(r->hits);
    g_free(r->subject);
    g_free(r->unscannable);
    memset(r, 0, sizeof *r);
}

static const char *domain_of(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    return at ? at + 1 : NULL;
}

static bool domain_in(const GPtrArray *list, const char *domain)
{
    for (guint i = 0; domain && list && i < list->len; i++)
        if (!g_ascii_strcasecmp(list->pdata[i], domain))
            return true;
    return false;
}

static unsigned count_of(const sp_scan_result *r, const char *det)
{
    if (!strcmp(det, "hipaa"))
        return r->hipaa ? 1 : 0;
    for (guint i = 0; i < r->hits->len; i++) {
        const sp_hit *h = &g_array_index(r->hits, sp_hit, i);
        if (!strcmp(h->detector, det))
            return h->count;
    }
    return 0;
}

static bool rule_fires(const sp_policy *p, const sp_rule *rule, guint ri, const state *st,
                       const sp_scan_result *r, const facts *fx)
{
    if (st->rule_excluded[ri])
        return false;
    if (rule->flag && !r->flagged)
        return false;
    if (rule->sensitivity &&
        !(fx->sensitivity &&
          g_strv_contains((const char *const *)rule->sensitivity->pdata, fx->sensitivity)))
        return false;
    if (rule->hipaa && !r->hipaa)
        return false;
    if (rule->scan_limit_exceeded && !r->scan_limit_exceeded)
        return false;
    if (rule->thread && !fx->in_thread)
        return false;
    if (rule->any && rule->any->len) {
        bool one = false;
        for (guint i = 0; i < rule->any->len && !one; i++) {
            const sp_threshold *t = &g_array_index(rule->any, sp_threshold, i);
            one = count_of(r, t->detector) >= t->min;
        }
        if (!one)
            return false;
    }
    for (guint i = 0; rule->all && i < rule->all->len; i++) {
        const sp_threshold *t = &g_array_index(rule->all, sp_threshold, i);
        if (count_of(r, t->detector) < t->min)
            return false;
    }
    if (rule->min_band) {
        bool severe = false;
        for (guint i = 0; i < r->hits->len && !severe; i++)
            severe = g_array_index(r->hits, sp_hit, i).band >= rule->min_band;
        if (!severe)
            return false;
    }
    if (rule->sender_domains && !domain_in(rule->sender_domains, domain_of(fx->sender)))
        return false;
    if (rule->recipient_domains) {
        bool one = false;
        for (guint i = 0; i < fx->rcpts->len && !one; i++)
            one = domain_in(rule->recipient_domains, domain_of(fx->rcpts->pdata[i]));
        if (!one)
            return false;
    }
    if (rule->external) {
        bool outside = false;
        for (guint i = 0; i < fx->rcpts->len && !outside; i++)
            outside = !domain_in(p->internal_domains, domain_of(fx->rcpts->pdata[i]));
        if (!outside)
            return false;
    }
    if (rule->words && rule->words->len &&
        st->rule_words[ri] < (rule->min_words ? rule->min_words : 1))
        return false;
    if (rule->regex && rule->regex->len && !st->rule_regex[ri])
        return false;
    return true;
}

/* The rule that decides for a message the engine could not read whole,
 * when the policy's own rules would let it out as it is (deliver, tag). */
static const sp_rule unscannable_rule = {.name = (char *)"unscannable", .action = SP_ACT_ENCRYPT};

/* Findings → hits, the HIPAA composite, the score, and the decision. */
void scan_decide(state *st, const view *parts, const facts *fx, sp_scan_result *r)
{
    const sp_policy *p = st->s->p;
    gsize window = p->window ? p->window : 300;
    int n = st->s->n_det;
    g_autofree unsigned *count = g_new0(unsigned, n);
    g_autofree int *first = g_new(int, n);
    GPtrArray **values = g_new0(GPtrArray *, n);
    for (int d = 0; d < n; d++)
        first[d] = -1;
    GArray *counted = g_array_new(FALSE, FALSE, sizeof(finding));
    g_array_sort(st->context, by_place);
    for (guint i = 0; i < st->findings->len; i++) {
        finding *f = &g_array_index(st->findings, finding, i);
        const sp_detector *d = &sp_detectors[f->det];
        bool needs_words = d->context || (f->bare && d->bare_context);
        if (needs_words && !near(st->context, f->det, f->part, f->pos, window, false, 0))
            continue;
        count[f->det]++;
        if (first[f->det] < 0)
            first[f->det] = (int)f->part;
        if (st->keep && f->value) {
            if (!values[f->det])
                values[f->det] = g_ptr_array_new_with_free_func(g_free);
            g_ptr_array_add(values[f->det], g_strdup(f->value));
        }
        g_array_append_val(counted, *f);
        r->score += band_weight(d->band);
    }
    /* HIPAA: a health-only identifier, or an identifier near health
     * content (within the window, in the same part). */
    g_array_sort(counted, by_place);
    for (guint i = 0; i < counted->len && !r->hipaa; i++) {
        const finding *f = &g_array_index(counted, finding, i);
        sp_kind k = sp_detectors[f->det].kind;
        if (k == SP_KIND_HEALTH_ID)
            r->hipaa = true;
        else if (k == SP_KIND_IDENTIFIER)
            r->hipaa = near(counted, -1, f->part, f->pos, window, true, SP_KIND_HEALTH);
    }
    g_array_unref(counted);
    r->hits = g_array_new(FALSE, TRUE, sizeof(sp_hit));
    g_array_set_clear_func(r->hits, hit_clear);
    for (int d = 0; d < n; d++) {
        if (!count[d]) {
            if (values[d])
                g_ptr_array_unref(values[d]);
            continue;
        }
        sp_hit h = {sp_detectors[d].name, count[d], sp_detectors[d].band,
                    g_strdup(parts[first[d]].where), values[d]};
        g_array_append_val(r->hits, h);
    }
    g_free(values);
    r->scan_limit_exceeded |= st->overflow;
    if (!r->unscannable && st->overflow)
        r->unscannable = g_strdup("more candidate matches than the engine handles in one message");
    if (!r->unscannable && r->scan_limit_exceeded)
        r->unscannable = g_strdup_printf(
            "more text than the policy's scan_limit (%" G_GUINT64_FORMAT " bytes)", p->scan_limit);
    r->action = SP_ACT_DELIVER;
    for (guint ri = 0; ri < p->rules->len; ri++) {
        const sp_rule *rule = p->rules->pdata[ri];
        if (!rule_fires(p, rule, ri, st, r, fx))
            continue;
        r->rule = rule;
        r->action = rule->action;
        break;
    }
    /* What the engine could not read is not known to be harmless: it never
     * goes out as it is (a reject or an encrypt rule stands). */
    if (r->unscannable && (r->action == SP_ACT_DELIVER || r->action == SP_ACT_TAG)) {
        r->rule = &unscannable_rule;
        r->action = SP_ACT_ENCRYPT;
    }
    if (r->action == SP_ACT_ENCRYPT)
        r->profile = r->rule->profile ? r->rule->profile : p->default_profile;
}

/* The sender's flag in the subject: found case-insensitively, removed. */
char *scan_strip_flag(const sp_policy *p, const char *subject)
{
    if (!subject)
        return NULL;
    g_autofree char *lower = g_utf8_strdown(subject, -1);
    for (guint i = 0; i < p->flags->len; i++) {
        const char *flag = p->flags->pdata[i];
        const char *at = strstr(lower, flag);
        /* Lower-casing may change byte lengths outside ASCII: only use
         * the position when the prefix kept its length. */
        if (!at || strlen(lower) != strlen(subject))
            continue;
        size_t off = (size_t)(at - lower), fl = strlen(flag);
        GString *out = g_string_new_len(subject, (gssize)off);
        g_string_append(out, subject + off + fl);
        char *s = g_string_free(out, FALSE);
        /* Tidy the spaces left where the flag was. */
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(s), " ", -1);
        GString *tidy = g_string_new(NULL);
        for (char **w = words; *w; w++)
            if (**w)
                g_string_append_printf(tidy, "%s%s", tidy->len ? " " : "", *w);
        g_free(s);
        return g_string_free(tidy, FALSE);
    }
    return NULL;
}
