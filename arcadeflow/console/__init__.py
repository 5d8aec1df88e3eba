"""The local console of executions at /console on the HTTP port: state machines, executions,
one execution drawn as its state graph coloured by what happened, its table and event views,
and Redrive, Replay and Stop. Served only by `arcadeflow up` (loopback only), never deployed.

- history.py: what happened to each state, read from an execution's history events.
- api.py: the JSON API under /console/api/ (boto3 Step Functions calls) and the static page.
- static/: the page (plain HTML, CSS and JavaScript, no build step, nothing from the internet;
  the graph is drawn by graph.js from the ASL as SVG).
"""
