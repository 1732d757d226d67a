#ifndef AK_JPEG_H
#define AK_JPEG_H

#include <stddef.h>
#include <stdint.h>

/// Header facts of a JPEG stream, read without decoding any pixels.
typedef struct {
  int width;
  int height;
  int components;   /* 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK */
  int colorSpace;   /* libjpeg's J_COLOR_SPACE of the file */
  int progressive;  /* 1 when the file is progressive */
} ak_jpeg_info;

/// Status codes returned by the shim (never exit(), never longjmp into Swift).
enum {
  AK_JPEG_OK = 0,
  AK_JPEG_ERROR = 1,      /* libjpeg reported a fatal error; message filled */
  AK_JPEG_TRUNCATED = 2,  /* the data ended before the image did */
  AK_JPEG_BUFFER = 3      /* the output buffer is too small */
};

/// Reads the header of an in-memory JPEG. On failure, writes a message
/// (NUL-terminated, at most `messageCapacity` bytes) and returns non-zero.
int ak_jpeg_read_info(const uint8_t *data, size_t length, ak_jpeg_info *info,
                      char *message, size_t messageCapacity);

/// Decodes an in-memory JPEG (baseline, progressive, grayscale, RGB, CMYK or
/// YCCK) to interleaved 8-bit RGB. `output` must hold width*height*3 bytes.
/// CMYK is converted as r = (255-c)(255-k)/255, with Adobe's inverted storage
/// detected from the APP14 marker.
int ak_jpeg_decode_rgb(const uint8_t *data, size_t length, uint8_t *output,
                       size_t outputCapacity, char *message,
                       size_t messageCapacity);

/// Encodes `width*height*3` interleaved RGB bytes as a baseline JPEG with
/// libjpeg's defaults (4:2:0 chroma subsampling, Annex K tables scaled to
/// `quality` in 1...100). On success `*output` holds `*outputLength` bytes
/// that the caller must release with `ak_jpeg_free`.
int ak_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality,
                       uint8_t **output, size_t *outputLength, char *message,
                       size_t messageCapacity);

/// Releases a buffer returned by `ak_jpeg_encode_rgb`.
void ak_jpeg_free(uint8_t *buffer);

#endif
