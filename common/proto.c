/* SPDX-License-Identifier: MIT */
#include "proto.h"

#include "util.h"

#include <errno.h>
#include <string.h>

struct frame_hdr {
  uint32_t magic;
  uint16_t version;
  uint16_t type;
  uint32_t len;
};
_Static_assert(sizeof(struct frame_hdr) == PROTO_HDR_SIZE, "frame header layout");

void
pbuf_free(struct pbuf *b) {
  free(b->data);
  *b = (struct pbuf){0};
}

void
pbuf_reset(struct pbuf *b) {
  b->len = 0;
  b->frame_start = 0;
}

static void *
pbuf_grow(struct pbuf *b, size_t n) {
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
      cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
  }
  void *p = b->data + b->len;
  b->len += n;
  return p;
}

void
pb_frames(struct pbuf *b, const struct pbuf *frames) {
  if (frames->len)
    memcpy(pbuf_grow(b, frames->len), frames->data, frames->len);
}

void
pb_begin(struct pbuf *b, uint16_t type) {
  b->frame_start = b->len;
  struct frame_hdr h = {PROTO_MAGIC, BOXQ_PROTOCOL_VERSION, type, 0};
  memcpy(pbuf_grow(b, sizeof(h)), &h, sizeof(h));
}

void
pb_end(struct pbuf *b) {
  uint32_t len = (uint32_t)(b->len - b->frame_start - PROTO_HDR_SIZE);
  memcpy(b->data + b->frame_start + offsetof(struct frame_hdr, len), &len, sizeof(len));
}

static void
put_field_hdr(struct pbuf *b, uint16_t tag, uint32_t len) {
  uint8_t *p = pbuf_grow(b, PROTO_FIELD_HDR_SIZE);
  memcpy(p, &tag, 2);
  memcpy(p + 2, &len, 4);
}

void
pb_bytes(struct pbuf *b, uint16_t tag, const void *data, size_t len) {
  put_field_hdr(b, tag, (uint32_t)len);
  if (len)
    memcpy(pbuf_grow(b, len), data, len);
}

void
pb_str(struct pbuf *b, uint16_t tag, const char *s) {
  if (s)
    pb_bytes(b, tag, s, strlen(s) + 1);
}

void
pb_i64(struct pbuf *b, uint16_t tag, int64_t v) {
  pb_bytes(b, tag, &v, sizeof(v));
}

size_t
pb_nest_begin(struct pbuf *b, uint16_t tag) {
  size_t mark = b->len;
  put_field_hdr(b, tag, 0);
  return mark;
}

void
pb_nest_end(struct pbuf *b, size_t mark) {
  uint32_t len = (uint32_t)(b->len - mark - PROTO_FIELD_HDR_SIZE);
  memcpy(b->data + mark + 2, &len, 4);
}

/* Checks that the fields tile the payload exactly. */
int
pmsg_init(struct pmsg *m, uint16_t type, const uint8_t *p, size_t len) {
  size_t off = 0;
  while (off < len) {
    if (len - off < PROTO_FIELD_HDR_SIZE)
      return -EBADMSG;
    uint32_t flen;
    memcpy(&flen, p + off + 2, 4);
    off += PROTO_FIELD_HDR_SIZE;
    if (flen > len - off)
      return -EBADMSG;
    off += flen;
  }
  *m = (struct pmsg){type, p, len};
  return 0;
}

bool
pmsg_next(const struct pmsg *m, size_t *off, struct pfield *f) {
  if (*off + PROTO_FIELD_HDR_SIZE > m->len)
    return false;
  memcpy(&f->tag, m->p + *off, 2);
  memcpy(&f->len, m->p + *off + 2, 4);
  f->data = m->p + *off + PROTO_FIELD_HDR_SIZE;
  *off += PROTO_FIELD_HDR_SIZE + f->len;
  return true;
}

bool
pmsg_find(const struct pmsg *m, uint16_t tag, struct pfield *f) {
  size_t off = 0;
  while (pmsg_next(m, &off, f))
    if (f->tag == tag)
      return true;
  return false;
}

const char *
pfield_str(const struct pfield *f) {
  if (f->len == 0 || f->data[f->len - 1] != '\0')
    return NULL;
  if (memchr(f->data, '\0', f->len) != f->data + f->len - 1)
    return NULL;
  return (const char *)f->data;
}

const char *
pmsg_str(const struct pmsg *m, uint16_t tag) {
  struct pfield f;
  return pmsg_find(m, tag, &f) ? pfield_str(&f) : NULL;
}

int
pfield_i64(const struct pfield *f, int64_t *ret) {
  if (f->len != sizeof(int64_t))
    return -EBADMSG;
  memcpy(ret, f->data, sizeof(int64_t));
  return 0;
}

int
pmsg_i64(const struct pmsg *m, uint16_t tag, int64_t *ret) {
  struct pfield f;
  if (!pmsg_find(m, tag, &f))
    return -ENOENT;
  return pfield_i64(&f, ret);
}

int64_t
pmsg_i64_or(const struct pmsg *m, uint16_t tag, int64_t dflt) {
  int64_t v;
  return pmsg_i64(m, tag, &v) == 0 ? v : dflt;
}

int
pmsg_sub(const struct pfield *f, struct pmsg *ret) {
  return pmsg_init(ret, 0, f->data, f->len);
}

void
pframer_free(struct pframer *fr) {
  free(fr->buf);
  *fr = (struct pframer){0};
}

int
pframer_feed(struct pframer *fr, const void *data, size_t len) {
  if (fr->len + len > PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD)
    return -E2BIG;
  if (fr->cap - fr->len < len) {
    size_t cap = fr->cap ? fr->cap : 4096;
    while (cap - fr->len < len)
      cap *= 2;
    fr->buf = xrealloc(fr->buf, cap);
    fr->cap = cap;
  }
  memcpy(fr->buf + fr->len, data, len);
  fr->len += len;
  return 0;
}

static int
parse_hdr(const uint8_t *data, size_t avail, struct frame_hdr *h) {
  memcpy(h, data, sizeof(*h));
  (void)avail;
  if (h->magic != PROTO_MAGIC)
    return -EPROTO;
  if (h->version != BOXQ_PROTOCOL_VERSION)
    return -EPROTO;
  if (h->len > PROTO_MAX_PAYLOAD)
    return -E2BIG;
  return 0;
}

int
pframer_next(struct pframer *fr, struct pmsg *ret, size_t *ret_frame_len) {
  if (fr->len < PROTO_HDR_SIZE)
    return 0;
  struct frame_hdr h;
  int r = parse_hdr(fr->buf, fr->len, &h);
  if (r < 0)
    return r;
  if (fr->len - PROTO_HDR_SIZE < h.len)
    return 0;
  r = pmsg_init(ret, h.type, fr->buf + PROTO_HDR_SIZE, h.len);
  if (r < 0)
    return r;
  *ret_frame_len = PROTO_HDR_SIZE + h.len;
  return 1;
}

void
pframer_consume(struct pframer *fr, size_t n) {
  if (n >= fr->len) {
    fr->len = 0;
    return;
  }
  memmove(fr->buf, fr->buf + n, fr->len - n);
  fr->len -= n;
}

int
proto_send(int fd, const struct pbuf *b) {
  ssize_t n = write_full(fd, b->data, b->len);
  return n < 0 ? (int)n : 0;
}

int
proto_recv(int fd, struct pframer *fr, struct pmsg *ret, size_t *ret_frame_len) {
  for (;;) {
    int r = pframer_next(fr, ret, ret_frame_len);
    if (r != 0)
      return r < 0 ? r : 0;
    uint8_t chunk[16384];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      return -ECONNRESET;
    r = pframer_feed(fr, chunk, (size_t)n);
    if (r < 0)
      return r;
  }
}

int
proto_parse_frame(const uint8_t *data, size_t len, struct pmsg *ret) {
  if (len < PROTO_HDR_SIZE)
    return -EBADMSG;
  struct frame_hdr h;
  int r = parse_hdr(data, len, &h);
  if (r < 0)
    return r;
  if (h.len != len - PROTO_HDR_SIZE)
    return -EBADMSG;
  return pmsg_init(ret, h.type, data + PROTO_HDR_SIZE, h.len);
}
