"""LinkedIn Pages: a release becomes a post of an organisation, through the Posts API.

Why it is built this way (the facts, with their sources, are in docs/linkedin.md):

- Every call carries `LinkedIn-Version` (YYYYMM, `api_version`) and
  `X-Restli-Protocol-Version: 2.0.0`. A version LinkedIn no longer serves answers 426: no
  post can go out, so the channel pauses and the message names `api_version`.
- The commentary is "little" text: reserved characters are escaped, or LinkedIn cuts the
  post at the first one and publishes the rest (`little`). The core counts the 3,000
  characters on the commentary as sent.
- Link posts carry an article (source, title, description, and the first picture as its
  thumbnail), since LinkedIn does not scrape the link; two or more pictures go out as a
  multi-image post, each with its alt text, uploaded through `/rest/images`.
- There is no idempotency key. `publish` first looks for the post among the Page's recent
  posts (`q=author`, the approved text created after the post's first claim), so calling it
  twice publishes once; the post's URN comes back in `x-restli-id`. A lost answer to the
  create call is `Ambiguous`: the publisher looks the post up before any retry.
- Access tokens live 60 days. With `refresh_token`, `client_id` and `client_secret` an
  expired token is refreshed (in memory: the refresh token stays valid for its year) and
  `check` reads the expiry from LinkedIn's token introspection; without them `check`
  takes `token_expires` from the config. A token LinkedIn refuses pauses the channel.

The package, one job a module:

    channel   LinkedInChannel: limits, check, publish (article, image, multi-image), lookup
    api       every request: the version headers, the token, its refresh
    media     pictures downloaded (netguard on every hop) and uploaded through /rest/images
    lookup    the Page's recent posts, matched to the approved text
    little    the little text format: escaping, hashtags, mentions, its length
    errors    LinkedIn's answers as channel errors, with what a person should do
"""
