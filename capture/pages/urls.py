"""The capture pages' URL table (namespace ``capture``); the API's is ``api/urls.py``."""

app_name = "capture"

urlpatterns: list = []
