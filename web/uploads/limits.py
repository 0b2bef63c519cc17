"""What an upload may be: its size in bytes and its pixels. The defaults are here; an environment
variable of the same name changes each (read in web/settings.py, listed in deploy/env.example), and
web/uploads/validation.py refuses what is over them before anything is stored.
"""

# DIGITSCAN_MAX_UPLOAD_BYTES: 2 MB, a scan or a screenshot of a page of numbers with room to spare.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# DIGITSCAN_MAX_PIXELS: decompression bombs. A 2 MB PNG can claim 100k × 100k pixels; the header's size
# is checked before anything is decoded. 25 Mpx is a 6000 × 4000 camera photo.
MAX_PIXELS = 25_000_000
# DIGITSCAN_MAX_REQUEST_BYTES: a whole request body. One image plus the form's other fields and the
# multipart framing; a body announced over it is refused from its Content-Length, before it is read.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 512 * 1024
# The upload page shrinks a photo over either limit in the browser before sending it (a phone's 3-6 MB
# JPEG): longest side at most this many pixels, JPEG quality lowered until it fits. 3,000 px keeps a
# digit a tenth of the picture's height over 200 px tall, far more than the 28 px the model reads.
SHRINK_SIDE = 3000
