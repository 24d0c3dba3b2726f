/* The merge loop of glassnet's count-weighted Ward tree under a connectivity graph, in C, and
 * three loops around it: the leaves' sorted neighbour lists, a fold's neighbour edges and the
 * dendrogram runs (each documented where it is defined, each equal to its Python/NumPy
 * version bit for bit).
 *
 * It does what ``glassnet.simplify._ward._ward_loop`` does in Python, step for step and with
 * the same floating-point operations in the same order, so both return the same tree, bit for
 * bit (tests/test_ward_native.py checks it on random inputs):
 *
 * - one heap entry (cost, i, j) per live cluster i: its cheapest merge when it was formed, or
 *   the next live partner of its sorted list once that partner has merged away; entries
 *   compare as Python tuples (cost, then i, then j);
 * - a new cluster's merge costs to its neighbours, sorted by (cost, neighbour); its
 *   neighbours are the live clusters holding a neighbour of either child (a union-find
 *   resolves old names, where the Python loop renames them in sets);
 * - centroids ``(m_i x_i + m_j x_j) / (m_i + m_j)`` and costs
 *   ``m_n m_q / (m_n + m_q) * ||x_q - x_n||^2``, the squared distance summed in NumPy's
 *   pairwise order (what ``sum(axis=1)`` does; a plain loop below 8 features).
 *
 * The leaves' sorted neighbour lists come in from NumPy. No NumPy C API: arrays arrive through
 * the buffer protocol (checked for size here, for dtype and contiguity by the caller), and the
 * loop runs without the GIL, so cross-validation folds can build their trees in threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double c;
    int64_t i, j;
} Entry;

static inline int entry_less(const Entry *a, const Entry *b)
{
    if (a->c < b->c) return 1;
    if (b->c < a->c) return 0;
    if (a->i != b->i) return a->i < b->i;
    return a->j < b->j;
}

typedef struct {
    Entry *e;
    Py_ssize_t n, cap;
} Heap;

static int heap_push(Heap *h, double c, int64_t i, int64_t j)
{
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 64;
        Entry *e = realloc(h->e, (size_t)cap * sizeof(Entry));
        if (!e) return -1;
        h->e = e;
        h->cap = cap;
    }
    Entry x = {c, i, j};
    Py_ssize_t k = h->n++;
    while (k > 0) {
        Py_ssize_t up = (k - 1) / 2;
        if (!entry_less(&x, &h->e[up])) break;
        h->e[k] = h->e[up];
        k = up;
    }
    h->e[k] = x;
    return 0;
}

static Entry heap_pop(Heap *h)
{
    Entry top = h->e[0];
    Entry x = h->e[--h->n];
    Py_ssize_t k = 0, n = h->n;
    for (;;) {
        Py_ssize_t c = 2 * k + 1;
        if (c >= n) break;
        if (c + 1 < n && entry_less(&h->e[c + 1], &h->e[c])) c++;
        if (!entry_less(&h->e[c], &x)) break;
        h->e[k] = h->e[c];
        k = c;
    }
    if (n > 0) h->e[k] = x;
    return top;
}

/* NumPy's pairwise summation of n doubles (numpy/_core/src/umath/loops_utils.h.src): a plain
 * loop below 8, eight accumulators up to 128, halves above. */
static double pairwise_sum(const double *a, Py_ssize_t n)
{
    if (n < 8) {
        double res = 0.;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        Py_ssize_t i;
        for (int k = 0; k < 8; k++) r[k] = a[k];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++) r[k] += a[i + k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

typedef struct {
    double c;
    int64_t q;
} Pair;

static int pair_cmp(const void *pa, const void *pb)
{
    const Pair *a = pa, *b = pb;
    if (a->c < b->c) return -1;
    if (b->c < a->c) return 1;
    return (a->q > b->q) - (a->q < b->q);
}

/* Pairs sorted by (cost, neighbour): insertion sort for the short lists a leaf or a merge
 * has (the comparison inlined; 2-3x faster than qsort's calls below about 64 entries), else
 * qsort. The order is total for distinct neighbours, so both give the same lists. */
static void sort_pairs(Pair *p, Py_ssize_t n)
{
    if (n > 64) {
        qsort(p, (size_t)n, sizeof(Pair), pair_cmp);
        return;
    }
    for (Py_ssize_t a = 1; a < n; a++) {
        Pair v = p[a];
        Py_ssize_t b = a;
        while (b > 0 && (p[b - 1].c > v.c || (!(v.c > p[b - 1].c) && p[b - 1].q > v.q))) {
            p[b] = p[b - 1];
            b--;
        }
        p[b] = v;
    }
}

static inline int64_t find(int64_t *parent, int64_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* ---------------------------------------------------------------- the leaves' sorted lists
 * What glassnet.simplify._ward._sorted_neighbours computes with np.lexsort((other, cost,
 * ends)): every edge (a, b, c) listed under both ends, each leaf's list sorted by (cost,
 * neighbour). A counting sort by leaf, then each short list sorted on its own: the same lists
 * (the order is total but for duplicated edges, whose entries are equal), 5-10x faster. The
 * costs must not be NaN (the caller checks). */
static int sorted_neighbours(Py_ssize_t R, Py_ssize_t E, const int64_t *a, const int64_t *b,
                             const double *cost, int64_t *bounds, int64_t *other,
                             double *cost_out)
{
    int64_t *fill = malloc((size_t)(R > 0 ? R : 1) * sizeof(int64_t));
    Pair *pairs = malloc((size_t)(E > 0 ? 2 * E : 1) * sizeof(Pair));
    if (!fill || !pairs) {
        free(fill);
        free(pairs);
        return -1;
    }
    for (Py_ssize_t i = 0; i <= R; i++) bounds[i] = 0;
    for (Py_ssize_t e = 0; e < E; e++) {
        bounds[a[e] + 1]++;
        bounds[b[e] + 1]++;
    }
    for (Py_ssize_t i = 0; i < R; i++) bounds[i + 1] += bounds[i];
    for (Py_ssize_t i = 0; i < R; i++) fill[i] = bounds[i];
    for (Py_ssize_t e = 0; e < E; e++) {
        pairs[fill[a[e]]++] = (Pair){cost[e], b[e]};
        pairs[fill[b[e]]++] = (Pair){cost[e], a[e]};
    }
    for (Py_ssize_t i = 0; i < R; i++) {
        const int64_t lo = bounds[i], n = bounds[i + 1] - lo;
        if (n > 1) sort_pairs(pairs + lo, n);
    }
    for (Py_ssize_t k = 0; k < 2 * E; k++) {
        other[k] = pairs[k].q;
        cost_out[k] = pairs[k].c;
    }
    free(fill);
    free(pairs);
    return 0;
}

/* ---------------------------------------------------------------- the dendrogram's runs
 * What glassnet.simplify._cut._dendrogram_runs computes in two Python loops: every node's
 * size (bottom up) and the start of its run of the leaf order (top down: a node's left child
 * starts where it starts, its right child after the left one's leaves), and the order. The
 * tree must be valid (checked by the caller of this function): children[m] are nodes formed
 * before node R + m, and no node is a child twice. */
static void dendrogram_runs(Py_ssize_t R, const int64_t *children, int64_t *order,
                            int64_t *start, int64_t *size)
{
    for (Py_ssize_t i = 0; i < R; i++) size[i] = 1;
    for (Py_ssize_t m = 0; m < R - 1; m++)
        size[R + m] = size[children[2 * m]] + size[children[2 * m + 1]];
    start[2 * R - 2] = 0;
    for (Py_ssize_t m = R - 2; m >= 0; m--) {
        const int64_t x = children[2 * m], y = children[2 * m + 1];
        start[x] = start[R + m];
        start[y] = start[R + m] + size[x];
    }
    for (Py_ssize_t i = 0; i < R; i++) order[start[i]] = i;
}

/* ---------------------------------------------------------------- a fold's neighbours
 * What glassnet.simplify._graph.NeighbourGraph.edges does with NumPy for a fold: each point's
 * candidate neighbours (local[i * m + j], -1 where absent) re-ranked by the squared distance
 * between the fold's centres (summed as NumPy sums, see pairwise_sum; a stable sort, so ties
 * keep the candidates' order), or kept in their order when centres is NULL, then the first k
 * candidates that are present and not the point itself, as pairs (i, neighbour). Returns the
 * number of pairs, -1 out of memory, -2 a distance is NaN (the caller then uses NumPy). */
static Py_ssize_t first_neighbours(Py_ssize_t P, Py_ssize_t m, Py_ssize_t p, Py_ssize_t k,
                                   const int64_t *local, const double *centres, int64_t *out_a,
                                   int64_t *out_b)
{
    /* the k nearest so far, by (distance, position): a candidate goes in after every kept
     * one at most as near (ties keep the candidates' order, as a stable sort does) */
    double *best_d = malloc((size_t)(k > 0 ? k : 1) * sizeof(double));
    int64_t *best_q = malloc((size_t)(k > 0 ? k : 1) * sizeof(int64_t));
    double *sq = malloc((size_t)(p > 0 ? p : 1) * sizeof(double));
    if (!best_d || !best_q || !sq) {
        free(best_d);
        free(best_q);
        free(sq);
        return -1;
    }
    Py_ssize_t n_out = 0;
    for (Py_ssize_t i = 0; i < P; i++) {
        const int64_t *row = local + i * m;
        Py_ssize_t kept = 0;
        for (Py_ssize_t j = 0; j < m; j++) {
            const int64_t q = row[j];
            if (q < 0 || q == i) continue;
            if (!centres) { /* the candidates' own order */
                if (kept == k) break;
                best_q[kept++] = q;
                continue;
            }
            const double *x = centres + i * p, *y = centres + q * p;
            for (Py_ssize_t f = 0; f < p; f++) sq[f] = (x[f] - y[f]) * (x[f] - y[f]);
            const double d = pairwise_sum(sq, p);
            if (isnan(d)) {
                free(best_d);
                free(best_q);
                free(sq);
                return -2;
            }
            if (kept == k && !(d < best_d[k - 1])) continue;
            Py_ssize_t t = kept < k ? kept++ : k - 1;
            for (; t > 0 && best_d[t - 1] > d; t--) {
                best_d[t] = best_d[t - 1];
                best_q[t] = best_q[t - 1];
            }
            best_d[t] = d;
            best_q[t] = q;
        }
        for (Py_ssize_t t = 0; t < kept; t++) {
            out_a[n_out] = i;
            out_b[n_out] = best_q[t];
            n_out++;
        }
    }
    free(best_d);
    free(best_q);
    free(sq);
    return n_out;
}

/* Returns 0, 1 (the graph is not connected) or -1 (out of memory). */
static int ward_loop(Py_ssize_t R, Py_ssize_t p, const double *F, const double *w,
                     const int64_t *bounds, const int64_t *other, const double *cost,
                     int64_t *children, double *heights)
{
    Py_ssize_t n_nodes = 2 * R - 1;
    int status = -1;
    double *mass = malloc((size_t)n_nodes * sizeof(double));
    double *mu = malloc((size_t)n_nodes * (size_t)p * sizeof(double));
    double *sq = malloc((size_t)(p ? p : 1) * sizeof(double));
    int64_t *parent = malloc((size_t)n_nodes * sizeof(int64_t));
    int64_t *stamp = malloc((size_t)n_nodes * sizeof(int64_t));
    char *active = calloc((size_t)n_nodes, 1);
    /* each cluster's partners sorted by cost (the leaves' point into the caller's arrays),
     * its costs, their number, and the position of the current partner */
    const int64_t **part = calloc((size_t)n_nodes, sizeof(int64_t *));
    const double **pcost = calloc((size_t)n_nodes, sizeof(double *));
    Py_ssize_t *plen = calloc((size_t)n_nodes, sizeof(Py_ssize_t));
    Py_ssize_t *ptr = calloc((size_t)n_nodes, sizeof(Py_ssize_t));
    Pair *pairs = NULL;
    Py_ssize_t pairs_cap = 0;
    Heap heap = {NULL, 0, 0};
    if (!mass || !mu || !sq || !parent || !stamp || !active || !part || !pcost || !plen || !ptr)
        goto done;
    memcpy(mu, F, (size_t)R * (size_t)p * sizeof(double));
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        parent[i] = i;
        stamp[i] = -1;
        mass[i] = i < R ? w[i] : 0.0;
    }
    for (Py_ssize_t i = 0; i < R; i++) {
        int64_t lo = bounds[i], hi = bounds[i + 1];
        active[i] = 1;
        part[i] = other + lo;
        pcost[i] = cost + lo;
        plen[i] = (Py_ssize_t)(hi - lo);
        if (hi > lo && heap_push(&heap, cost[lo], i, other[lo])) goto done;
    }
    for (Py_ssize_t node = R; node < n_nodes; node++) {
        Entry top;
        for (;;) {
            if (heap.n == 0) {
                status = 1;
                goto done;
            }
            top = heap_pop(&heap);
            if (!active[top.i]) continue;
            if (active[top.j]) break;
            /* the partner merged away: the next live partner of i's sorted list */
            int64_t i = top.i;
            Py_ssize_t k = ptr[i] + 1;
            while (k < plen[i] && !active[part[i][k]]) k++;
            ptr[i] = k;
            if (k < plen[i] && heap_push(&heap, pcost[i][k], i, part[i][k])) goto done;
        }
        int64_t i = top.i, j = top.j;
        double c = top.c;
        active[i] = active[j] = 0;
        active[node] = 1;
        parent[i] = parent[j] = node;
        double mi = mass[i], mj = mass[j], mn = mi + mj;
        mass[node] = mn;
        double *un = mu + node * p;
        const double *xi = mu + i * p, *xj = mu + j * p;
        for (Py_ssize_t k = 0; k < p; k++) un[k] = (mi * xi[k] + mj * xj[k]) / mn;
        children[2 * (node - R)] = i < j ? i : j;
        children[2 * (node - R) + 1] = i < j ? j : i;
        heights[node - R] = c > 0.0 ? sqrt(2.0 * c) : 0.0;
        /* the live clusters next to i or j, once each */
        Py_ssize_t need = plen[i] + plen[j], m = 0;
        if (need > pairs_cap) {
            Pair *np_ = realloc(pairs, (size_t)need * sizeof(Pair));
            if (!np_) goto done;
            pairs = np_;
            pairs_cap = need;
        }
        for (int side = 0; side < 2; side++) {
            int64_t a = side ? j : i;
            for (Py_ssize_t k = 0; k < plen[a]; k++) {
                int64_t q = find(parent, part[a][k]);
                if (q == node || stamp[q] == node) continue;
                stamp[q] = node;
                double mq = mass[q];
                const double *xq = mu + q * p;
                for (Py_ssize_t t = 0; t < p; t++) {
                    double d = xq[t] - un[t];
                    sq[t] = d * d;
                }
                pairs[m].c = mn * mq / (mn + mq) * pairwise_sum(sq, p);
                pairs[m].q = q;
                m++;
            }
        }
        for (int side = 0; side < 2; side++) {
            int64_t a = side ? j : i;
            if (a >= R) {
                free((void *)part[a]);
                free((void *)pcost[a]);
            }
            part[a] = NULL;
            pcost[a] = NULL;
            plen[a] = 0;
        }
        if (m == 0) continue;
        sort_pairs(pairs, m);
        int64_t *ids = malloc((size_t)m * sizeof(int64_t));
        double *cs = malloc((size_t)m * sizeof(double));
        if (!ids || !cs) {
            free(ids);
            free(cs);
            goto done;
        }
        for (Py_ssize_t k = 0; k < m; k++) {
            ids[k] = pairs[k].q;
            cs[k] = pairs[k].c;
        }
        part[node] = ids;
        pcost[node] = cs;
        plen[node] = m;
        if (heap_push(&heap, cs[0], node, ids[0])) goto done;
    }
    status = 0;
done:
    if (part)
        for (Py_ssize_t a = R; a < n_nodes; a++) {
            free((void *)part[a]);
            free((void *)pcost[a]);
        }
    free(mass);
    free(mu);
    free(sq);
    free(parent);
    free(stamp);
    free(active);
    free(part);
    free(pcost);
    free(plen);
    free(ptr);
    free(pairs);
    free(heap.e);
    return status;
}

static int check_len(Py_buffer *b, Py_ssize_t n, Py_ssize_t item, const char *name)
{
    if (b->len != n * item) {
        PyErr_Format(PyExc_ValueError, "ward_loop: %s holds %zd bytes, expected %zd", name,
                     b->len, n * item);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(ward_loop_doc,
             "ward_loop(R, p, F, w, bounds, other, cost, children, heights)\n--\n\n"
             "Merge loop of the count-weighted Ward tree (see glassnet.simplify._ward). F: (R, p)\n"
             "float64; w: (R,) float64; bounds: (R + 1,) int64; other, cost: the leaves' sorted\n"
             "neighbour lists (int64, float64); children (R - 1, 2) int64 and heights (R - 1,)\n"
             "float64 are written. Returns False when the graph is not connected.");

static PyObject *py_ward_loop(PyObject *self, PyObject *args)
{
    Py_ssize_t R, p;
    Py_buffer F, w, bounds, other, cost, children, heights;
    if (!PyArg_ParseTuple(args, "nny*y*y*y*y*w*w*", &R, &p, &F, &w, &bounds, &other, &cost,
                          &children, &heights))
        return NULL;
    PyObject *result = NULL;
    int status = 0;
    Py_ssize_t E2 = other.len / (Py_ssize_t)sizeof(int64_t);
    if (R < 2 || p < 0) {
        PyErr_SetString(PyExc_ValueError, "ward_loop: needs R >= 2 points and p >= 0 features");
        goto out;
    }
    if (check_len(&F, R * p, sizeof(double), "F") || check_len(&w, R, sizeof(double), "w") ||
        check_len(&bounds, R + 1, sizeof(int64_t), "bounds") ||
        check_len(&cost, E2, sizeof(double), "cost") ||
        check_len(&children, 2 * (R - 1), sizeof(int64_t), "children") ||
        check_len(&heights, R - 1, sizeof(double), "heights"))
        goto out;
    const int64_t *bd = bounds.buf, *ot = other.buf;
    /* the lists must be valid indices, or the loop would read out of bounds */
    if (bd[0] != 0 || bd[R] != E2) {
        PyErr_SetString(PyExc_ValueError, "ward_loop: bounds do not span the neighbour lists");
        goto out;
    }
    for (Py_ssize_t i = 0; i < R; i++)
        if (bd[i + 1] < bd[i]) {
            PyErr_SetString(PyExc_ValueError, "ward_loop: bounds must be non-decreasing");
            goto out;
        }
    for (Py_ssize_t e = 0; e < E2; e++)
        if (ot[e] < 0 || ot[e] >= R) {
            PyErr_SetString(PyExc_ValueError, "ward_loop: a neighbour index is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    status = ward_loop(R, p, F.buf, w.buf, bd, ot, cost.buf, children.buf, heights.buf);
    Py_END_ALLOW_THREADS
    if (status < 0)
        PyErr_NoMemory();
    else
        result = PyBool_FromLong(status == 0);
out:
    PyBuffer_Release(&F);
    PyBuffer_Release(&w);
    PyBuffer_Release(&bounds);
    PyBuffer_Release(&other);
    PyBuffer_Release(&cost);
    PyBuffer_Release(&children);
    PyBuffer_Release(&heights);
    return result;
}

PyDoc_STRVAR(sorted_neighbours_doc,
             "sorted_neighbours(R, a, b, cost, bounds, other, cost_out)\n--\n\n"
             "Every edge (a[e], b[e]) of cost[e] under both its ends, each leaf's list sorted\n"
             "by (cost, neighbour): a, b (E,) int64 in 0..R-1, cost (E,) float64 (no NaN);\n"
             "bounds (R + 1,) int64, other (2E,) int64 and cost_out (2E,) float64 are written.");

static PyObject *py_sorted_neighbours(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t R;
    Py_buffer a, b, cost, bounds, other, cost_out;
    if (!PyArg_ParseTuple(args, "ny*y*y*w*w*w*", &R, &a, &b, &cost, &bounds, &other, &cost_out))
        return NULL;
    PyObject *result = NULL;
    int status = 0;
    const Py_ssize_t E = a.len / (Py_ssize_t)sizeof(int64_t);
    if (R < 1) {
        PyErr_SetString(PyExc_ValueError, "sorted_neighbours: needs R >= 1 points");
        goto out;
    }
    if (check_len(&a, E, sizeof(int64_t), "a") || check_len(&b, E, sizeof(int64_t), "b") ||
        check_len(&cost, E, sizeof(double), "cost") ||
        check_len(&bounds, R + 1, sizeof(int64_t), "bounds") ||
        check_len(&other, 2 * E, sizeof(int64_t), "other") ||
        check_len(&cost_out, 2 * E, sizeof(double), "cost_out"))
        goto out;
    const int64_t *ea = a.buf, *eb = b.buf;
    for (Py_ssize_t e = 0; e < E; e++)
        if (ea[e] < 0 || ea[e] >= R || eb[e] < 0 || eb[e] >= R) {
            PyErr_SetString(PyExc_ValueError, "sorted_neighbours: an edge index is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    status = sorted_neighbours(R, E, ea, eb, cost.buf, bounds.buf, other.buf, cost_out.buf);
    Py_END_ALLOW_THREADS
    if (status < 0)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
out:
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&cost);
    PyBuffer_Release(&bounds);
    PyBuffer_Release(&other);
    PyBuffer_Release(&cost_out);
    return result;
}

PyDoc_STRVAR(dendrogram_runs_doc,
             "dendrogram_runs(R, children, order, start, size)\n--\n\n"
             "The leaf order of the tree children ((R - 1, 2) int64, merge m forming node R + m)\n"
             "and every node's run of it: order (R,), start and size (2R - 1,) int64 are written.\n"
             "ValueError where children is not a tree (a child formed later, or used twice).");

static PyObject *py_dendrogram_runs(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t R;
    Py_buffer children, order, start, size;
    if (!PyArg_ParseTuple(args, "ny*w*w*w*", &R, &children, &order, &start, &size))
        return NULL;
    PyObject *result = NULL;
    char *used = NULL;
    if (R < 2) {
        PyErr_SetString(PyExc_ValueError, "dendrogram_runs: needs R >= 2 leaves");
        goto out;
    }
    if (check_len(&children, 2 * (R - 1), sizeof(int64_t), "children") ||
        check_len(&order, R, sizeof(int64_t), "order") ||
        check_len(&start, 2 * R - 1, sizeof(int64_t), "start") ||
        check_len(&size, 2 * R - 1, sizeof(int64_t), "size"))
        goto out;
    used = calloc((size_t)(2 * R - 1), 1);
    if (!used) {
        PyErr_NoMemory();
        goto out;
    }
    const int64_t *ch = children.buf;
    for (Py_ssize_t k = 0; k < 2 * (R - 1); k++) {
        const int64_t c = ch[k];
        if (c < 0 || c >= R + k / 2 || used[c]) {
            PyErr_SetString(PyExc_ValueError, "dendrogram_runs: children do not form a tree");
            goto out;
        }
        used[c] = 1;
    }
    Py_BEGIN_ALLOW_THREADS
    dendrogram_runs(R, ch, order.buf, start.buf, size.buf);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
out:
    free(used);
    PyBuffer_Release(&children);
    PyBuffer_Release(&order);
    PyBuffer_Release(&start);
    PyBuffer_Release(&size);
    return result;
}

/* ---------------------------------------------------------------- connected components
 * What scipy.sparse.csgraph.connected_components tells _graph._join_components: the number
 * of components of the undirected graph (a[e], b[e]) on R nodes, and a component number per
 * node, numbered by their lowest node (node 0's component is 0). Union-find with path
 * halving: no sparse matrix is built (a fold's 2,000-node graph: 20 us against 0.6 ms). */
static Py_ssize_t components(Py_ssize_t R, Py_ssize_t E, const int64_t *a, const int64_t *b,
                             int64_t *comp)
{
    int64_t *parent = malloc((size_t)(R > 0 ? R : 1) * sizeof(int64_t));
    if (!parent) return -1;
    for (Py_ssize_t i = 0; i < R; i++) parent[i] = i;
    for (Py_ssize_t e = 0; e < E; e++) {
        int64_t x = find(parent, a[e]), y = find(parent, b[e]);
        if (x != y) {
            if (x < y) parent[y] = x;
            else parent[x] = y;
        }
    }
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < R; i++) {
        int64_t r = find(parent, i);
        /* a root is the lowest node of its set (unions keep the lower root), met first */
        comp[i] = r == i ? n++ : comp[r];
    }
    free(parent);
    return n;
}

PyDoc_STRVAR(components_doc,
             "components(R, a, b, comp)\n--\n\n"
             "Connected components of the undirected graph with edges (a[e], b[e]) (int64, each\n"
             "in [0, R)) on R nodes: comp (R,) int64 receives each node's component, numbered\n"
             "by their lowest node; returns the number of components.");

static PyObject *py_components(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t R, n = 0;
    Py_buffer a, b, comp;
    if (!PyArg_ParseTuple(args, "ny*y*w*", &R, &a, &b, &comp))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t E = a.len / (Py_ssize_t)sizeof(int64_t);
    if (R < 0) {
        PyErr_SetString(PyExc_ValueError, "components: negative size");
        goto out;
    }
    if (check_len(&a, E, sizeof(int64_t), "a") || check_len(&b, E, sizeof(int64_t), "b") ||
        check_len(&comp, R, sizeof(int64_t), "comp"))
        goto out;
    const int64_t *ea = a.buf, *eb = b.buf;
    for (Py_ssize_t e = 0; e < E; e++)
        if (ea[e] < 0 || ea[e] >= R || eb[e] < 0 || eb[e] >= R) {
            PyErr_SetString(PyExc_ValueError, "components: a node index is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    n = components(R, E, ea, eb, comp.buf);
    Py_END_ALLOW_THREADS
    if (n < 0)
        PyErr_NoMemory();
    else
        result = PyLong_FromSsize_t(n);
out:
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&comp);
    return result;
}

PyDoc_STRVAR(first_neighbours_doc,
             "first_neighbours(P, m, p, k, local, centres, out_a, out_b)\n--\n\n"
             "Each point's first k candidate neighbours that are present and not itself: local\n"
             "(P, m) int64 (-1 absent, else < P), ranked by the squared distance between\n"
             "centres (P, p) float64 (stable), or in their order where centres is None.\n"
             "out_a, out_b (P * k,) int64 receive the pairs; returns their count, or -2 where a\n"
             "distance is NaN (nothing else is then meaningful).");

static PyObject *py_first_neighbours(PyObject *self, PyObject *args)
{
    (void)self;
    Py_ssize_t P, m, p, k, n_out = 0;
    PyObject *centres_obj;
    Py_buffer local, centres = {0}, out_a, out_b;
    if (!PyArg_ParseTuple(args, "nnnny*Ow*w*", &P, &m, &p, &k, &local, &centres_obj, &out_a,
                          &out_b))
        return NULL;
    PyObject *result = NULL;
    int have_centres = centres_obj != Py_None;
    if (have_centres && PyObject_GetBuffer(centres_obj, &centres, PyBUF_SIMPLE) < 0) {
        have_centres = 0;
        goto out;
    }
    if (P < 0 || m < 0 || p < 0 || k < 0) {
        PyErr_SetString(PyExc_ValueError, "first_neighbours: negative sizes");
        goto out;
    }
    if (check_len(&local, P * m, sizeof(int64_t), "local") ||
        (have_centres && check_len(&centres, P * p, sizeof(double), "centres")) ||
        check_len(&out_a, P * k, sizeof(int64_t), "out_a") ||
        check_len(&out_b, P * k, sizeof(int64_t), "out_b"))
        goto out;
    const int64_t *lc = local.buf;
    for (Py_ssize_t e = 0; e < P * m; e++)
        if (lc[e] < -1 || lc[e] >= P) {
            PyErr_SetString(PyExc_ValueError, "first_neighbours: a neighbour index is out of range");
            goto out;
        }
    Py_BEGIN_ALLOW_THREADS
    n_out = first_neighbours(P, m, p, k, lc, have_centres ? centres.buf : NULL, out_a.buf,
                             out_b.buf);
    Py_END_ALLOW_THREADS
    if (n_out == -1)
        PyErr_NoMemory();
    else
        result = PyLong_FromSsize_t(n_out);
out:
    PyBuffer_Release(&local);
    if (have_centres) PyBuffer_Release(&centres);
    PyBuffer_Release(&out_a);
    PyBuffer_Release(&out_b);
    return result;
}

static PyMethodDef methods[] = {
    {"ward_loop", py_ward_loop, METH_VARARGS, ward_loop_doc},
    {"sorted_neighbours", py_sorted_neighbours, METH_VARARGS, sorted_neighbours_doc},
    {"dendrogram_runs", py_dendrogram_runs, METH_VARARGS, dendrogram_runs_doc},
    {"first_neighbours", py_first_neighbours, METH_VARARGS, first_neighbours_doc},
    {"components", py_components, METH_VARARGS, components_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "glassnet.simplify._ward_native",
    "Compiled loops of glassnet's count-weighted Ward tree: the merge loop, the sorted "
    "neighbour lists, a fold's neighbour edges and the dendrogram runs (optional; Python and "
    "NumPy do the same when this is not built).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__ward_native(void) { return PyModule_Create(&module); }
