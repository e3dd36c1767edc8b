"""Upload size cap, enforced while the body streams in — before CSRF or a view reads it.

Django does not cap file size by itself. ``UploadLimitMiddleware`` runs before every other
body reader: a declared Content-Length over the cap gets 413 at once without reading the body;
otherwise every upload streams through :class:`CappedUploadHandler`, which stops reading the
moment the cap is passed and marks the request, and the view answers 413 (see
:func:`raise_if_upload_too_large`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpResponse, JsonResponse

from finetunedb.exceptions import PayloadTooLarge

TOO_LARGE = (
    "The upload is larger than this server's limit of {limit} bytes (FINETUNEDB_MAX_UPLOAD_BYTES). "
    "Split the file, or compress it with gzip."
)
# Room for the multipart envelope and the small form fields around the file.
ENVELOPE_SLACK = 64 * 1024


def max_upload_bytes() -> int:
    return int(settings.FINETUNEDB_MAX_UPLOAD_BYTES)


class CappedUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = limit if limit is not None else max_upload_bytes()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # a temporary upload file is deleted on close
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        try:
            return super().receive_data_chunk(raw_data, start)
        except OSError:
            # Disk full (or another write error) mid-upload: drop the partial temporary file now
            # rather than whenever the request object is collected; the API answers 507.
            self.file.close()
            raise

    def file_complete(self, file_size):
        if self.received > self.limit:
            return None
        return super().file_complete(file_size)


def _too_large_response(request, limit: int):
    message = TOO_LARGE.format(limit=limit)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "too_large", "errors": []}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = max_upload_bytes()
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit + ENVELOPE_SLACK:
            return _too_large_response(request, limit)
        request.upload_too_large = False
        request.upload_handlers = [CappedUploadHandler(request, limit)]
        return self.get_response(request)


def raise_if_upload_too_large(request) -> None:
    """Call after the body was parsed (``request.FILES`` touched)."""
    if getattr(request, "upload_too_large", False):
        raise PayloadTooLarge(TOO_LARGE.format(limit=max_upload_bytes()))
