// A libpng (classic API) wrapper whose errors come back as status codes.
//
// libpng reports fatal errors by calling the error function, which must not
// return. Here it longjmps back into this file (never across Swift frames)
// and the caller gets a status and libpng's own message. Warnings, and the
// "benign" errors libpng downgrades to warnings, are ignored.
//
// No gamma function is called (no png_set_gamma, png_set_alpha_mode,
// png_set_background), so gAMA, cHRM, sRGB and iCCP never change a sample:
// the stored values come out, as they do from Pillow.
#include "ak_png.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

/// Largest width or height libpng accepts from an IHDR. The pixel budget
/// (ImageLimits, checked in Swift between read_info and decode) is the real
/// limit; this only bounds what libpng itself will consider.
#define AK_PNG_MAX_SIDE 1000000u
/// At most this many ancillary chunks (tEXt, sPLT, unknown…) are kept.
#define AK_PNG_CHUNK_CACHE_MAX 1000u
/// Largest ancillary chunk (or decompressed zTXt / iCCP) libpng will buffer.
#define AK_PNG_CHUNK_MALLOC_MAX ((png_alloc_size_t)32 * 1024 * 1024)

typedef struct {
  const uint8_t *data;
  size_t length;
  size_t offset;
  int truncated;
  char message[256];
  /// The warnings libpng issued, "; "-separated (png_check_IHDR says what is
  /// wrong with an IHDR only in warnings, then fails with "Invalid IHDR data").
  char warnings[256];
  jmp_buf jump;
} ak_png_source;

static void copy_message(const char *from, char *to, size_t capacity) {
  if (to == NULL || capacity == 0) return;
  snprintf(to, capacity, "%s", from);
}

static void ak_png_error(png_structp png, png_const_charp text) {
  ak_png_source *src = (ak_png_source *)png_get_error_ptr(png);
  // After a short read the reader has already written the message; libpng's
  // follow-up text adds nothing.
  if (!src->truncated) {
    const char *what = text != NULL ? text : "libpng error";
    if (strcmp(what, "Invalid IHDR data") == 0 && src->warnings[0] != '\0') {
      snprintf(src->message, sizeof src->message, "%s (%s)", what, src->warnings);
    } else {
      copy_message(what, src->message, sizeof src->message);
    }
  }
  longjmp(src->jump, 1);
}

/// Warnings do not stop decoding; they are kept only to explain an error.
static void ak_png_warning(png_structp png, png_const_charp text) {
  ak_png_source *src = (ak_png_source *)png_get_error_ptr(png);
  if (text == NULL) return;
  size_t used = strlen(src->warnings);
  if (used + 3 >= sizeof src->warnings) return;
  snprintf(src->warnings + used, sizeof src->warnings - used, "%s%s", used > 0 ? "; " : "", text);
}

/// Where in the stream libpng was reading, for the truncation message.
static const char *io_location(png_structp png) {
  switch (png_get_io_state(png) & PNG_IO_MASK_LOC) {
    case PNG_IO_SIGNATURE: return "the signature";
    case PNG_IO_CHUNK_HDR: return "a chunk header";
    case PNG_IO_CHUNK_DATA: return "the data of chunk";
    case PNG_IO_CHUNK_CRC: return "the CRC of chunk";
    default: return "the stream";
  }
}

static void ak_png_read(png_structp png, png_bytep out, size_t count) {
  ak_png_source *src = (ak_png_source *)png_get_io_ptr(png);
  if (count > src->length - src->offset) {
    src->truncated = 1;
    png_uint_32 state = png_get_io_state(png) & PNG_IO_MASK_LOC;
    char chunk[5] = {0};
    if (state == PNG_IO_CHUNK_DATA || state == PNG_IO_CHUNK_CRC) {
      png_uint_32 type = png_get_io_chunk_type(png);
      for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(type >> (24 - 8 * i));
        chunk[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
      }
    }
    snprintf(src->message, sizeof src->message,
             "data ended after %zu bytes, while reading %s%s%s", src->length,
             io_location(png), chunk[0] ? " " : "", chunk);
    png_error(png, src->message);
  }
  memcpy(out, src->data + src->offset, count);
  src->offset += count;
}

/// Creates the read structs and installs the reader, the error handlers and
/// the limits. Returns NULL (message filled) when libpng cannot start.
static png_structp create(ak_png_source *src, png_infop *info) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, src, ak_png_error, ak_png_warning);
  if (png == NULL) {
    copy_message("libpng could not create a read struct", src->message, sizeof src->message);
    return NULL;
  }
  *info = png_create_info_struct(png);
  if (*info == NULL) {
    copy_message("libpng could not create an info struct", src->message, sizeof src->message);
    png_destroy_read_struct(&png, NULL, NULL);
    return NULL;
  }
  png_set_read_fn(png, src, ak_png_read);
  png_set_user_limits(png, AK_PNG_MAX_SIDE, AK_PNG_MAX_SIDE);
  png_set_chunk_cache_max(png, AK_PNG_CHUNK_CACHE_MAX);
  png_set_chunk_malloc_max(png, AK_PNG_CHUNK_MALLOC_MAX);
  // A CRC mismatch is an error in every chunk, ancillary ones included
  // (libpng's default only warns and skips those; Pillow refuses them).
  png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
  // Oddities libpng calls benign (e.g. extra image data after the last row,
  // an sRGB profile it knows to be wrong) stay warnings, as in Pillow.
  png_set_benign_errors(png, 1);
  return png;
}

static void init_source(ak_png_source *src, const uint8_t *data, size_t length) {
  memset(src, 0, sizeof(*src));
  src->data = data;
  src->length = data != NULL ? length : 0;
}

int ak_png_read_info(const uint8_t *data, size_t length, ak_png_info *info,
                     char *message, size_t messageCapacity) {
  ak_png_source src;
  png_structp volatile png = NULL;
  png_infop volatile pngInfo = NULL;
  init_source(&src, data, length);
  if (setjmp(src.jump)) {
    copy_message(src.message, message, messageCapacity);
    png_structp p = png;
    png_infop i = pngInfo;
    png_destroy_read_struct(&p, &i, NULL);
    return src.truncated ? AK_PNG_TRUNCATED : AK_PNG_ERROR;
  }
  png_infop created = NULL;
  png = create(&src, &created);
  if (png == NULL) {
    copy_message(src.message, message, messageCapacity);
    return AK_PNG_ERROR;
  }
  pngInfo = created;
  png_read_info(png, pngInfo);
  png_uint_32 width = 0, height = 0;
  int bitDepth = 0, colorType = 0, interlace = 0;
  png_get_IHDR(png, pngInfo, &width, &height, &bitDepth, &colorType, &interlace, NULL, NULL);
  info->width = width;
  info->height = height;
  info->bitDepth = bitDepth;
  info->colorType = colorType;
  info->interlaced = interlace != PNG_INTERLACE_NONE ? 1 : 0;
  png_structp p = png;
  png_infop i = pngInfo;
  png_destroy_read_struct(&p, &i, NULL);
  return AK_PNG_OK;
}

int ak_png_decode_rgb(const uint8_t *data, size_t length, uint8_t *output,
                      size_t outputCapacity, char *message,
                      size_t messageCapacity) {
  ak_png_source src;
  png_structp volatile png = NULL;
  png_infop volatile pngInfo = NULL;
  png_bytep *volatile rows = NULL;
  init_source(&src, data, length);
  if (setjmp(src.jump)) {
    copy_message(src.message, message, messageCapacity);
    free((void *)rows);
    png_structp p = png;
    png_infop i = pngInfo;
    png_destroy_read_struct(&p, &i, NULL);
    return src.truncated ? AK_PNG_TRUNCATED : AK_PNG_ERROR;
  }
  png_infop created = NULL;
  png = create(&src, &created);
  if (png == NULL) {
    copy_message(src.message, message, messageCapacity);
    return AK_PNG_ERROR;
  }
  pngInfo = created;
  png_read_info(png, pngInfo);
  png_uint_32 width = 0, height = 0;
  int bitDepth = 0, colorType = 0, interlace = 0;
  png_get_IHDR(png, pngInfo, &width, &height, &bitDepth, &colorType, &interlace, NULL, NULL);

  // width and height are at most AK_PNG_MAX_SIDE, so this cannot overflow.
  size_t rowBytes = (size_t)width * 3;
  if (output == NULL || rowBytes * height > outputCapacity) {
    copy_message("output buffer too small", message, messageCapacity);
    png_structp p = png;
    png_infop i = pngInfo;
    png_destroy_read_struct(&p, &i, NULL);
    return AK_PNG_BUFFER;
  }

  // The transforms of Pillow's convert("RGB"), without any gamma step.
  if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, pngInfo, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bitDepth == 16) png_set_strip_16(png);
  if (colorType == PNG_COLOR_TYPE_GRAY || colorType == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, pngInfo);

  if (png_get_bit_depth(png, pngInfo) != 8 || png_get_channels(png, pngInfo) != 3 ||
      png_get_rowbytes(png, pngInfo) != rowBytes) {
    char text[128];
    snprintf(text, sizeof text, "libpng produced %d-bit rows of %d channels, not 8-bit RGB",
             (int)png_get_bit_depth(png, pngInfo), (int)png_get_channels(png, pngInfo));
    copy_message(text, message, messageCapacity);
    png_structp p = png;
    png_infop i = pngInfo;
    png_destroy_read_struct(&p, &i, NULL);
    return AK_PNG_ERROR;
  }

  rows = (png_bytep *)malloc((size_t)height * sizeof(png_bytep));
  if (rows == NULL) {
    copy_message("out of memory for the row pointers", message, messageCapacity);
    png_structp p = png;
    png_infop i = pngInfo;
    png_destroy_read_struct(&p, &i, NULL);
    return AK_PNG_ERROR;
  }
  for (size_t y = 0; y < height; y++) rows[y] = output + y * rowBytes;
  // Reads every pass of an interlaced image, and the CRC of the last IDAT.
  // Chunks after the image data (up to IEND) are not read: they cannot
  // change a pixel, and Pillow accepts a file that ends after its last IDAT.
  png_read_image(png, rows);

  free((void *)rows);
  rows = NULL;
  png_structp p = png;
  png_infop i = pngInfo;
  png_destroy_read_struct(&p, &i, NULL);
  return AK_PNG_OK;
}
