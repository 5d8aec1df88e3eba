"""Who may use the APIs: the WebSocket API's $connect authorizer and the token checks behind it."""
