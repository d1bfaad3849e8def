/* A tile's frame sink for libvlc's video callbacks, without Python.

   libvlc calls a player's ``lock`` and ``display`` callbacks on its decoder threads for
   every picture. As Python callbacks (ctypes) each call took the GIL from the GUI thread:
   two a frame, 1,800 a second for 36 tiles, and on two busy cores every hand-over waited
   for the scheduler. Here they are C: ``lock`` hands libvlc the back buffer, ``display``
   makes it the ready one and counts it, under a mutex that the GUI thread's ``take``
   shares. The buffers themselves are Python's (ctypes arrays, FrameSlot's): this only
   holds their addresses and the three indices (docs/video.md, "The frame sink").

   Built by `make setup` (cc -O2 -shared -fPIC); loaded with ctypes.PyDLL, so the GUI
   thread's calls keep the GIL, and none of these ever takes it. */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMES 64 /* the last frames' times: the rate over a window (FrameSlot.fps) */

typedef struct {
    pthread_mutex_t mu;
    void *buf[3];
    int back, ready, front;
    int fresh;         /* a frame is ready that the GUI has not taken */
    long want, live;   /* the session asked for (GUI) and the one libvlc plays */
    long frames, shown;
    double first_at, last_at; /* CLOCK_MONOTONIC seconds, Python's time.monotonic(); -1: none */
    double times[TIMES];
    int next; /* where the next time goes in ``times`` */
} wc_sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void forget(wc_sink *s) {
    s->fresh = 0;
    s->frames = s->shown = 0;
    s->first_at = s->last_at = -1.0;
    s->next = 0;
    for (int i = 0; i < TIMES; i++) s->times[i] = -1.0;
}

wc_sink *wc_sink_new(void) {
    wc_sink *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    pthread_mutex_init(&s->mu, NULL);
    s->back = 0, s->ready = 1, s->front = 2;
    forget(s);
    return s;
}

/* Only once libvlc calls neither callback any more (its player stopped and released). */
void wc_sink_free(wc_sink *s) {
    if (s == NULL) return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* New buffers (a new size): nothing ready, the indices back to their start. */
void wc_sink_buffers(wc_sink *s, void *b0, void *b1, void *b2) {
    pthread_mutex_lock(&s->mu);
    s->buf[0] = b0, s->buf[1] = b1, s->buf[2] = b2;
    s->back = 0, s->ready = 1, s->front = 2;
    s->fresh = 0;
    pthread_mutex_unlock(&s->mu);
}

/* Frames are kept only while the session libvlc plays is the one asked for: a late
   frame of the camera before is never shown as this one's. */
void wc_sink_want(wc_sink *s, long session) {
    pthread_mutex_lock(&s->mu);
    s->want = session;
    pthread_mutex_unlock(&s->mu);
}

void wc_sink_live(wc_sink *s, long session) {
    pthread_mutex_lock(&s->mu);
    s->live = session;
    pthread_mutex_unlock(&s->mu);
}

void wc_sink_reset(wc_sink *s) {
    pthread_mutex_lock(&s->mu);
    forget(s);
    pthread_mutex_unlock(&s->mu);
}

/* libvlc's decoder thread: where to write the next picture. */
void *wc_sink_lock(void *opaque, void **planes) {
    wc_sink *s = opaque;
    pthread_mutex_lock(&s->mu);
    planes[0] = s->buf[s->back];
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* libvlc's decoder thread: the picture is whole. */
void wc_sink_display(void *opaque, void *picture) {
    (void)picture;
    wc_sink *s = opaque;
    double t = now();
    pthread_mutex_lock(&s->mu);
    if (s->live == s->want) {
        int b = s->back;
        s->back = s->ready, s->ready = b;
        s->fresh = 1;
        s->frames++;
        if (s->first_at < 0) s->first_at = t;
        s->last_at = t;
        s->times[s->next] = t;
        s->next = (s->next + 1) % TIMES;
    }
    pthread_mutex_unlock(&s->mu);
}

/* The GUI thread: the newest frame becomes the front one; its buffer's index, or -1
   when none is new. */
int wc_sink_take(wc_sink *s) {
    pthread_mutex_lock(&s->mu);
    int front = -1;
    if (s->fresh) {
        int r = s->ready;
        s->ready = s->front, s->front = r;
        s->fresh = 0;
        s->shown++;
        front = r;
    }
    pthread_mutex_unlock(&s->mu);
    return front;
}

/* Counts and times in one look: frames, shown, fresh; first and last (-1: none). */
void wc_sink_counts(wc_sink *s, long *counts, double *at) {
    pthread_mutex_lock(&s->mu);
    counts[0] = s->frames, counts[1] = s->shown, counts[2] = s->fresh;
    at[0] = s->first_at, at[1] = s->last_at;
    pthread_mutex_unlock(&s->mu);
}

/* Frames within ``window`` seconds of ``at``: their count and first and last time. */
int wc_sink_rate(wc_sink *s, double at, double window, double *span) {
    int n = 0;
    double lo = -1.0, hi = -1.0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < TIMES; i++) {
        double t = s->times[i];
        if (t < 0 || at - t > window) continue;
        n++;
        if (lo < 0 || t < lo) lo = t;
        if (t > hi) hi = t;
    }
    pthread_mutex_unlock(&s->mu);
    span[0] = lo, span[1] = hi;
    return n;
}
