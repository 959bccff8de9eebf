"""Web pages for people: the program dashboard and the patient timeline.

The pages are static shells (HTML, CSS, JavaScript and a vendored charting library served
from this package, no CDN). Every figure they show comes from the HTTP API through
`fetch()` calls carrying the user's API key, so authentication, authorization and the access
trail are the API's own. See docs/web.md."""
