"""``Authorization: Bearer <token>``: the same hashed personal API tokens as ``Token``, in the
header shape OpenAI's clients send."""

from finetunedb.teams.authentication import HashedTokenAuthentication


class BearerTokenAuthentication(HashedTokenAuthentication):
    keyword = "Bearer"
