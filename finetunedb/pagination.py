from rest_framework.pagination import PageNumberPagination


class CappedPageNumberPagination(PageNumberPagination):
    """``?page=&page_size=``; page_size is capped so a client cannot ask for a million rows."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
