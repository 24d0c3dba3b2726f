/* Damped Newton for the L2-penalised binary logistic regression of a merged region, in C.
 *
 * It runs the steps of ``glassnet.simplify._glm.logistic_newton`` (see its docstring for the
 * method): the same start, the same step rule (halved until the objective decreases, or taken
 * at once when the gradient at its end proves the decrease), the same stopping tests. What
 * differs is how each pass over the rows is done: one loop computes the logits, exp(-|z|),
 * the gradient, the Hessian and the objective's upper bound together, where NumPy makes a
 * dozen passes and Python pays ~40 us of call overhead per Newton step; and the fit runs
 * without the GIL, so the cross-validation folds solve their refits in parallel threads.
 * Sums are accumulated in another order than NumPy's, so the two agree to rounding, not bit
 * for bit (tests/test_glm_native.py).
 *
 * The design is held transposed, ``m = d + 1`` rows of ``n`` values (the last row all ones),
 * row ``j`` at ``A + j * ld``; it arrives through the buffer protocol with an offset, so that a
 * run of rows of a fold's design is passed without a copy. No NumPy C API.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_M 64 /* columns (features + intercept) solved here; more: NumPy's path */
#define BLOCK 512 /* rows per block: logits and weights stay in L1 */

/* sum a[i] b[i] in eight independent partial sums: the compiler can keep them in vector
 * registers, where one running sum waits on each addition */
static inline double dot(const double *a, const double *b, Py_ssize_t n)
{
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    for (; i < n; i++) s[0] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* exp(x) for x <= 0, written so that the compiler vectorises a loop of it (glibc's exp is
 * a call per value, 6 ns here, the pass's largest cost): x = k ln2 + r with |r| <= ln2 / 2
 * (k rounded by the 1.5 * 2^52 shift, ln2 split in two so that k ln2 is exact), e^r by its
 * Taylor polynomial to degree 13 (truncation below 5e-18), and 2^k put in the exponent
 * bits. Within 2 ulp of the correctly rounded value (tests/test_glm_native.py); 0 below
 * -708, where e^x < 3e-308 is lost against 1 anyway; NaN stays NaN. */
static inline double exp_nonpos(double x)
{
    const double shift = 6755399441055744.0; /* 1.5 * 2^52 */
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double xc = x < -708.0 ? -708.0 : x;
    const double t = xc * 1.4426950408889634 + shift;
    const double k = t - shift;
    const double r = (xc - k * ln2_hi) - k * ln2_lo;
    double p = 1.0 / 6227020800.0; /* 1 / 13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits); /* the low bits of t hold k (two's complement) */
    bits = (bits + 1023u) << 52;    /* k + 1023 in 1..1023: the biased exponent of 2^k */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -708.0 ? 0.0 : p * scale;
}

static inline double sum(const double *a, Py_ssize_t n)
{
    double s[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k];
    for (; i < n; i++) s[0] += a[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

typedef struct {
    const double *A, *y, *lam;
    Py_ssize_t ld, n;
    int m;
} Problem;

/* One pass at t, each output only where its pointer is not NULL: the gradient g (with the
 * penalty), the Hessian H (upper triangle mirrored, ridge on the diagonal; only with g), the
 * upper bound sum max(z,0) + e^-|z| - y z (+ penalty) of the objective in *fub, the exact
 * objective in *fex. */
/* The passes are compiled for AVX-512, AVX2 and the x86-64 baseline where the compiler can
 * (chosen once at load by the CPU): the same operations in the same order in each, so the
 * same results, 2-3x faster than the baseline's 2-wide vectors on recent CPUs. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif

CLONES static void pass(const Problem *P, const double *t, double *g, double *H, const double *ridge,
                 double *fub, double *fex)
{
    const int m = P->m;
    const Py_ssize_t n = P->n, ld = P->ld;
    double z[BLOCK], e[BLOCK], r[BLOCK], w[BLOCK], v[BLOCK];
    double sum_pos = 0.0, sum_e = 0.0, sum_log = 0.0, sum_yz = 0.0;
    if (g)
        for (int j = 0; j < m; j++) g[j] = 0.0;
    if (H)
        for (int j = 0; j < m * m; j++) H[j] = 0.0;
    for (Py_ssize_t i0 = 0; i0 < n; i0 += BLOCK) {
        const Py_ssize_t b = n - i0 < BLOCK ? n - i0 : BLOCK;
        const double *y = P->y + i0;
        for (Py_ssize_t i = 0; i < b; i++) z[i] = 0.0;
        for (int j = 0; j < m; j++) {
            const double *a = P->A + j * ld + i0, tj = t[j];
            for (Py_ssize_t i = 0; i < b; i++) z[i] += tj * a[i];
        }
        for (Py_ssize_t i = 0; i < b; i++) e[i] = exp_nonpos(-fabs(z[i]));
        if (fub || fex) {
            for (Py_ssize_t i = 0; i < b; i++) v[i] = z[i] > 0.0 ? z[i] : 0.0;
            sum_pos += sum(v, b);
            sum_e += sum(e, b);
            sum_yz += dot(y, z, b);
            if (fex)
                for (Py_ssize_t i = 0; i < b; i++) sum_log += log1p(e[i]);
        }
        if (!g) continue; /* an objective only */
        for (Py_ssize_t i = 0; i < b; i++) {
            const double q = 1.0 / (1.0 + e[i]);
            r[i] = (z[i] >= 0.0 ? q : e[i] * q) - y[i]; /* expit(z) - y without overflow */
            w[i] = e[i] * q * q;                        /* p (1 - p) without cancellation */
        }
        for (int j = 0; j < m; j++) {
            const double *a = P->A + j * ld + i0;
            g[j] += dot(r, a, b);
            if (!H) continue;
            for (Py_ssize_t i = 0; i < b; i++) v[i] = w[i] * a[i];
            for (int k = j; k < m; k++) {
                const double *c = P->A + k * ld + i0;
                H[j * m + k] += dot(v, c, b);
            }
        }
    }
    double pen = 0.0;
    for (int j = 0; j < m; j++) {
        if (g) g[j] += P->lam[j] * t[j];
        pen += P->lam[j] * t[j] * t[j];
    }
    if (fub) *fub = sum_pos + sum_e - sum_yz + 0.5 * pen;
    if (fex) *fex = sum_pos + sum_log - sum_yz + 0.5 * pen;
    if (H) {
        for (int j = 0; j < m; j++) {
            H[j * m + j] += ridge[j];
            for (int k = 0; k < j; k++) H[j * m + k] = H[k * m + j];
        }
    }
}

/* H^-1 g by Gaussian elimination without pivoting (H positive definite); -1 where a pivot is
 * not a positive finite number (the caller then solves in NumPy). */
static int solve(int m, const double *H, const double *g, double *x)
{
    double a[MAX_M * MAX_M];
    memcpy(a, H, sizeof(double) * m * m);
    memcpy(x, g, sizeof(double) * m);
    for (int k = 0; k < m; k++) {
        const double pivot = a[k * m + k];
        if (!(pivot > 0.0 && pivot < INFINITY)) return -1;
        for (int i = k + 1; i < m; i++) {
            const double f = a[i * m + k] / pivot;
            for (int j = k; j < m; j++) a[i * m + j] -= f * a[k * m + j];
            x[i] -= f * x[k];
        }
    }
    for (int k = m - 1; k >= 0; k--) {
        double s = x[k];
        for (int j = k + 1; j < m; j++) s -= a[k * m + j] * x[j];
        x[k] = s / a[k * m + k];
    }
    return 0;
}

/* Status: 0 converged, 1 max_iter reached, -1 a pivot failed (solve in NumPy instead). */
static int newton(const Problem *P, double *theta, int have_init, double tol, int max_iter,
                  int *n_iter)
{
    const int m = P->m;
    const Py_ssize_t n = P->n;
    double ridge[MAX_M], g[MAX_M], H[MAX_M * MAX_M], g_new[MAX_M], H_new[MAX_M * MAX_M];
    double step[MAX_M], cand[MAX_M];
    double f = INFINITY, fex;
    for (int j = 0; j < m; j++) ridge[j] = P->lam[j] + 1e-10 * (double)n;
    *n_iter = 0;
    if (have_init) pass(P, theta, g, H, ridge, &f, NULL);
    if (!isfinite(f)) { /* the cold start: zero slopes, the intercept at the log-odds */
        double mean = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) mean += P->y[i];
        mean /= (double)(n > 0 ? n : 1);
        const double p0 = mean < 1e-12 ? 1e-12 : (mean > 1 - 1e-12 ? 1 - 1e-12 : mean);
        for (int j = 0; j < m; j++) theta[j] = 0.0;
        theta[m - 1] = log(p0 / (1 - p0));
        pass(P, theta, g, H, ridge, &f, NULL);
    }
    int f_exact = 0;
    const double floor_n = (double)(n > 1 ? n : 1);
    for (int it = 0; it < max_iter; it++) {
        *n_iter = it + 1;
        if (solve(m, H, g, step) < 0) return -1;
        double decrement = 0.0;
        for (int j = 0; j < m; j++) decrement += g[j] * step[j];
        decrement /= 2.0;
        if (decrement <= tol * floor_n) return 0;
        if (decrement <= 1e-10 * (1.0 + fabs(f))) { /* quadratic region: one last full step */
            for (int j = 0; j < m; j++) theta[j] -= step[j];
            return 0;
        }
        double t_step = 1.0;
        for (;;) {
            for (int j = 0; j < m; j++) cand[j] = theta[j] - t_step * step[j];
            pass(P, cand, g_new, H_new, ridge, NULL, NULL);
            double slope = 0.0;
            for (int j = 0; j < m; j++) slope += g_new[j] * step[j];
            if (slope >= 0.0) { /* by convexity the step decreased the objective */
                f_exact = 0;
                break;
            }
            if (!f_exact) { /* the exact objectives only: no gradient pass again */
                pass(P, theta, NULL, NULL, ridge, NULL, &f);
                f_exact = 1;
            }
            pass(P, cand, NULL, NULL, ridge, NULL, &fex);
            if (fex <= f) {
                f = fex;
                break;
            }
            t_step *= 0.5;
            if (t_step < 1e-10) return 0; /* no decrease left at rounding level */
        }
        memcpy(theta, cand, sizeof(double) * m);
        memcpy(g, g_new, sizeof(double) * m);
        memcpy(H, H_new, sizeof(double) * m * m);
    }
    return 1;
}

PyDoc_STRVAR(logistic_newton_doc,
             "logistic_newton(A, y, lam, theta, have_init, tol, max_iter)\n--\n\n"
             "Minimise sum log-loss + sum lam_j theta_j^2 / 2 over the columns of the transposed\n"
             "design A, (m, n) float64 with unit stride along n (a view of a larger array is\n"
             "fine), against y (n,) float64 0/1 codes. theta (m,) float64 holds the start when\n"
             "have_init and receives the result. Returns (status, n_iter): status 0 converged,\n"
             "1 max_iter steps taken, -1 a Hessian pivot failed (theta is then undefined).");

static PyObject *py_logistic_newton(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *A_obj;
    int have_init, max_iter, status = 0, n_iter = 0;
    double tol;
    Py_buffer A, y, lam, theta;
    if (!PyArg_ParseTuple(args, "Oy*y*w*pdi", &A_obj, &y, &lam, &theta, &have_init, &tol,
                          &max_iter))
        return NULL;
    if (PyObject_GetBuffer(A_obj, &A, PyBUF_STRIDES | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&y);
        PyBuffer_Release(&lam);
        PyBuffer_Release(&theta);
        return NULL;
    }
    PyObject *result = NULL;
    const Py_ssize_t d = (Py_ssize_t)sizeof(double);
    if (A.ndim != 2 || A.itemsize != d || !A.format || strcmp(A.format, "d") != 0 ||
        A.strides[1] != d || A.strides[0] % d != 0 || A.strides[0] < A.shape[1] * d) {
        PyErr_SetString(PyExc_ValueError,
                        "logistic_newton: A must be (m, n) float64 with rows of unit stride");
        goto out;
    }
    const Py_ssize_t m = A.shape[0], n = A.shape[1];
    if (m < 1 || m > MAX_M || max_iter < 0 || y.len != n * d || lam.len != m * d ||
        theta.len != m * d) {
        PyErr_SetString(PyExc_ValueError, "logistic_newton: sizes do not match");
        goto out;
    }
    Problem P = {A.buf, y.buf, lam.buf, A.strides[0] / d, n, (int)m};
    Py_BEGIN_ALLOW_THREADS
    status = newton(&P, theta.buf, have_init, tol, max_iter, &n_iter);
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("ii", status, n_iter);
out:
    PyBuffer_Release(&A);
    PyBuffer_Release(&y);
    PyBuffer_Release(&lam);
    PyBuffer_Release(&theta);
    return result;
}

PyDoc_STRVAR(exp_nonpos_doc,
             "exp_nonpos(x, out)\n--\n\n"
             "out[i] = exp(x[i]) by the solver's own exp (x <= 0; 0 below -708), for its tests.\n"
             "x and out: contiguous float64 buffers of one length.");

static PyObject *py_exp_nonpos(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer x, out;
    if (!PyArg_ParseTuple(args, "y*w*", &x, &out)) return NULL;
    PyObject *result = NULL;
    if (x.len != out.len || x.len % (Py_ssize_t)sizeof(double) != 0) {
        PyErr_SetString(PyExc_ValueError, "exp_nonpos: x and out must be float64 of one size");
    } else {
        const double *xs = x.buf;
        double *o = out.buf;
        for (Py_ssize_t i = 0; i < x.len / (Py_ssize_t)sizeof(double); i++) o[i] = exp_nonpos(xs[i]);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    return result;
}

/* ---------------------------------------------------------------- rows grouped by leaf
 * What FoldFitter computes with NumPy (rank[leaf_of_row], a stable argsort of those keys,
 * the sorted keys and where each key starts): a counting sort, two passes over the rows
 * (80,000 rows: 0.15 ms against 1.2 ms). order[p] is the row at sorted position p; run[p]
 * its key; start[k] the first position of key k (start[n_keys] = n). */
static int group_order(Py_ssize_t n, Py_ssize_t n_keys, const int64_t *leaf,
                       const int64_t *rank, int64_t *order, int64_t *run, int64_t *start)
{
    int64_t *cursor = calloc((size_t)n_keys + 1, sizeof(int64_t));
    if (!cursor) return -1;
    for (Py_ssize_t i = 0; i < n; i++) cursor[rank[leaf[i]] + 1]++;
    for (Py_ssize_t k = 0; k < n_keys; k++) cursor[k + 1] += cursor[k];
    for (Py_ssize_t k = 0; k <= n_keys; k++) start[k] = cursor[k];
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t key = rank[leaf[i]];
        int64_t p = cursor[key]++;
        order[p] = i;
        run[p] = key;
    }
    free(cursor);
    return 0;
}

PyDoc_STRVAR(group_order_doc,
             "group_order(leaf, rank, order, run, start)\n--\n\n"
             "Rows grouped by key rank[leaf[i]], stably: leaf (n,) int64 in [0, L); rank (L,)\n"
             "int64, a permutation of 0..L-1; order, run (n,) and start (L + 1,) int64 are\n"
             "written (see _glm.FoldFitter).");

static PyObject *py_group_order(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer leaf, rank, order, run, start;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*", &leaf, &rank, &order, &run, &start)) return NULL;
    PyObject *result = NULL;
    const Py_ssize_t I = (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t n = leaf.len / I, L = rank.len / I;
    if (leaf.len % I || rank.len % I || order.len != n * I || run.len != n * I ||
        start.len != (L + 1) * I) {
        PyErr_SetString(PyExc_ValueError, "group_order: buffers of inconsistent sizes");
        goto out;
    }
    const int64_t *lf = leaf.buf, *rk = rank.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (lf[i] < 0 || lf[i] >= L) {
            PyErr_SetString(PyExc_ValueError, "group_order: a leaf is out of range");
            goto out;
        }
    for (Py_ssize_t k = 0; k < L; k++)
        if (rk[k] < 0 || rk[k] >= L) {
            PyErr_SetString(PyExc_ValueError, "group_order: a rank is out of range");
            goto out;
        }
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = group_order(n, L, lf, rk, order.buf, run.buf, start.buf);
    Py_END_ALLOW_THREADS
    if (status < 0)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
out:
    PyBuffer_Release(&leaf);
    PyBuffer_Release(&rank);
    PyBuffer_Release(&order);
    PyBuffer_Release(&run);
    PyBuffer_Release(&start);
    return result;
}

static PyMethodDef methods[] = {
    {"logistic_newton", py_logistic_newton, METH_VARARGS, logistic_newton_doc},
    {"exp_nonpos", py_exp_nonpos, METH_VARARGS, exp_nonpos_doc},
    {"group_order", py_group_order, METH_VARARGS, group_order_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "glassnet.simplify._glm_native",
    "Compiled Newton solver of glassnet's logistic refits (optional; NumPy does the same "
    "when this is not built).",
    -1, methods,
};

PyMODINIT_FUNC PyInit__glm_native(void) { return PyModule_Create(&module); }
