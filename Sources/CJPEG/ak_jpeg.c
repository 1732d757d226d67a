// A libjpeg-turbo wrapper whose errors come back as status codes.
//
// libjpeg's default error manager calls exit(). Here `error_exit` longjmps
// back into this file (never across Swift frames) and the caller gets a status
// and the library's own message.
#include "ak_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  int truncated;
  char message[JMSG_LENGTH_MAX];
} ak_error_mgr;

static void ak_error_exit(j_common_ptr cinfo) {
  ak_error_mgr *err = (ak_error_mgr *)cinfo->err;
  // After the data ran out, libjpeg reads the fake EOI that jpeg_mem_src
  // inserts and may then fail on it (e.g. "Invalid component ID 255 in SOS"
  // when the cut falls inside a progressive scan header). The cause is the
  // truncation, so keep its message; the caller reports AK_JPEG_TRUNCATED.
  if (!err->truncated) (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

static void ak_emit_message(j_common_ptr cinfo, int level) {
  ak_error_mgr *err = (ak_error_mgr *)cinfo->err;
  if (level < 0) {  // a warning
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
      err->truncated = 1;
      (*cinfo->err->format_message)(cinfo, err->message);
    }
    cinfo->err->num_warnings++;
  }
}

static void ak_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void copy_message(const char *from, char *to, size_t capacity) {
  if (to == NULL || capacity == 0) return;
  snprintf(to, capacity, "%s", from);
}

static void install(struct jpeg_decompress_struct *cinfo, ak_error_mgr *err) {
  memset(err, 0, sizeof(*err));
  cinfo->err = jpeg_std_error(&err->base);
  err->base.error_exit = ak_error_exit;
  err->base.emit_message = ak_emit_message;
  err->base.output_message = ak_output_message;
}

int ak_jpeg_read_info(const uint8_t *data, size_t length, ak_jpeg_info *info,
                      char *message, size_t messageCapacity) {
  struct jpeg_decompress_struct cinfo;
  ak_error_mgr err;
  install(&cinfo, &err);
  if (setjmp(err.jump)) {
    copy_message(err.message, message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    return err.truncated ? AK_JPEG_TRUNCATED : AK_JPEG_ERROR;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);
  if (err.truncated) {
    copy_message(err.message, message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    return AK_JPEG_TRUNCATED;
  }
  info->width = (int)cinfo.image_width;
  info->height = (int)cinfo.image_height;
  info->components = cinfo.num_components;
  info->colorSpace = (int)cinfo.jpeg_color_space;
  info->progressive = cinfo.progressive_mode ? 1 : 0;
  jpeg_destroy_decompress(&cinfo);
  return AK_JPEG_OK;
}

int ak_jpeg_decode_rgb(const uint8_t *data, size_t length, uint8_t *output,
                       size_t outputCapacity, char *message,
                       size_t messageCapacity) {
  struct jpeg_decompress_struct cinfo;
  ak_error_mgr err;
  JSAMPLE *volatile row = NULL;
  install(&cinfo, &err);
  if (setjmp(err.jump)) {
    copy_message(err.message, message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    free((void *)row);
    return err.truncated ? AK_JPEG_TRUNCATED : AK_JPEG_ERROR;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)length);
  jpeg_read_header(&cinfo, TRUE);

  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  int adobeInverted = cmyk && cinfo.saw_Adobe_marker;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);

  size_t width = cinfo.output_width;
  size_t height = cinfo.output_height;
  size_t channels = (size_t)cinfo.output_components;
  if (width * height * 3 > outputCapacity) {
    copy_message("output buffer too small", message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    return AK_JPEG_BUFFER;
  }
  row = (JSAMPLE *)malloc(width * channels);
  if (row == NULL) {
    copy_message("out of memory for one scanline", message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    return AK_JPEG_ERROR;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    size_t y = cinfo.output_scanline;
    JSAMPROW rows[1] = {row};
    if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) break;
    uint8_t *out = output + y * width * 3;
    if (!cmyk) {
      memcpy(out, row, width * 3);
    } else {
      for (size_t x = 0; x < width; x++) {
        unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
        if (!adobeInverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
        out[3 * x] = (uint8_t)((c * k + 127) / 255);
        out[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        out[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
      }
    }
  }
  free((void *)row);
  row = NULL;
  if (err.truncated) {
    copy_message(err.message, message, messageCapacity);
    jpeg_destroy_decompress(&cinfo);
    return AK_JPEG_TRUNCATED;
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return AK_JPEG_OK;
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

typedef struct {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} ak_encode_error_mgr;

static void ak_encode_error_exit(j_common_ptr cinfo) {
  ak_encode_error_mgr *err = (ak_encode_error_mgr *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

int ak_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality,
                       uint8_t **output, size_t *outputLength, char *message,
                       size_t messageCapacity) {
  struct jpeg_compress_struct cinfo;
  ak_encode_error_mgr err;
  *output = NULL;
  *outputLength = 0;
  // libjpeg's memory destination grows its buffer and reports it through
  // these two fields. They live on the heap, allocated before setjmp, so the
  // error path sees their current values.
  struct { unsigned char *data; unsigned long size; } *const out = calloc(1, sizeof(*out));
  if (out == NULL) {
    copy_message("out of memory", message, messageCapacity);
    return AK_JPEG_ERROR;
  }
  memset(&err, 0, sizeof(err));
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = ak_encode_error_exit;
  err.base.output_message = ak_output_message;
  if (setjmp(err.jump)) {
    copy_message(err.message, message, messageCapacity);
    jpeg_destroy_compress(&cinfo);
    free(out->data);
    free(out);
    return AK_JPEG_ERROR;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &out->data, &out->size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  // libjpeg's defaults: YCbCr with 2x2 chroma subsampling (4:2:0), the
  // standard Annex K tables scaled by `quality`, baseline Huffman coding,
  // islow DCT. Pillow's `save(quality=q)` uses the same settings.
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * (size_t)width * 3);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  *output = out->data;
  *outputLength = (size_t)out->size;
  free(out);
  return AK_JPEG_OK;
}

void ak_jpeg_free(uint8_t *buffer) { free(buffer); }
