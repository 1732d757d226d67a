#ifndef AK_PNG_H
#define AK_PNG_H

#include <stddef.h>
#include <stdint.h>

/// Header facts of a PNG stream (its IHDR), read without decoding any pixels.
typedef struct {
  uint32_t width;
  uint32_t height;
  int bitDepth;    /* 1, 2, 4, 8 or 16 */
  int colorType;   /* PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  int interlaced;  /* 1 when the file is Adam7-interlaced */
} ak_png_info;

/// Status codes returned by the shim (never abort(), never longjmp into Swift).
enum {
  AK_PNG_OK = 0,
  AK_PNG_ERROR = 1,      /* libpng reported a fatal error; message filled */
  AK_PNG_TRUNCATED = 2,  /* the data ended before the image did */
  AK_PNG_BUFFER = 3      /* the output buffer is too small */
};

/// Reads the signature and the chunks up to the first IDAT of an in-memory
/// PNG. On failure, writes a message (NUL-terminated, at most
/// `messageCapacity` bytes) and returns non-zero.
int ak_png_read_info(const uint8_t *data, size_t length, ak_png_info *info,
                     char *message, size_t messageCapacity);

/// Decodes an in-memory PNG of any colour type, bit depth and interlace to
/// interleaved 8-bit RGB, as Pillow's `convert("RGB")` does: stored samples
/// pass through unchanged (gAMA, cHRM, sRGB and iCCP are ignored), palettes
/// are expanded, gray is replicated, 1/2/4-bit gray is scaled to 8 bits,
/// 16-bit samples keep their high byte, and alpha (tRNS included) is dropped
/// without compositing. `output` must hold width*height*3 bytes.
int ak_png_decode_rgb(const uint8_t *data, size_t length, uint8_t *output,
                      size_t outputCapacity, char *message,
                      size_t messageCapacity);

#endif
