// The /play page: sign in with a local token, then tic-tac-toe through the matchmaking queue and
// duels, over the WebSocket API (frames in README "Duels over the WebSocket API" and issue 9's
// protocol). Plain script, no build step, nothing fetched from outside the local stack.
"use strict";

(() => {
  // The source documents refresh presence every 30 s; a record lives about 2 minutes.
  const PRESENCE_REFRESH_MS = 30000;
  // The duel protocol has no "who is online" frame: the page polls GET /presence/online.
  const ONLINE_REFRESH_MS = 5000;
  const COUNTDOWN_TICK_MS = 100;
  const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000];
  const FRAME_LOG_LENGTH = 40;
  // Refusals of a move: the server changed nothing, so the page takes its own mark back.
  const MOVE_REFUSALS = new Set([
    "not_your_turn", "cell_taken", "game_over", "unknown_game", "not_in_game",
    "invalid_frame", "malformed_frame",
  ]);
  const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

  const $ = (id) => document.getElementById(id);

  const state = {
    config: null,
    token: null,
    userId: null,
    name: null,
    socket: null,
    reconnects: 0,
    signedIn: false,
    // Matchmaking: idle -> queued -> playing -> over (-> queued on requeue).
    queue: "idle",
    game: null, // {gameId, opponent, opponentName, marker, board[9], turn, over, pendingCell}
    incomingInvite: null, // {inviteId, from, expiresAt}
    outgoingInvite: null, // {inviteId, to, expiresAt}
    session: null, // {sessionId, players, startAtMs, endAtMs, ended}
    countdownTimer: null,
  };

  // --- HTTP -------------------------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = (data && data.error) || { code: String(response.status), message: text };
      throw Object.assign(new Error(error.message), { code: error.code, details: error.details });
    }
    return data;
  }

  async function signIn(event) {
    event.preventDefault();
    const userId = $("user-id").value.trim();
    const name = $("display-name").value.trim() || userId;
    const problem = $("signin-error");
    problem.hidden = true;
    try {
      state.config = state.config || (await api("GET", "/local/config"));
      const minted = await api("POST", "/local/token", { userId, name });
      Object.assign(state, { token: minted.token, userId, name, signedIn: true });
    } catch (error) {
      problem.textContent = `Could not sign in: ${describe(error)}`;
      problem.hidden = false;
      return;
    }
    $("signin").hidden = true;
    $("lobby").hidden = false;
    $("whoami").textContent = `Signed in as ${name} (${userId})`;
    $("whoami").dataset.userId = userId;
    $("whoami").hidden = false;
    connect();
    refreshPresence();
    setInterval(refreshPresence, PRESENCE_REFRESH_MS);
    setInterval(refreshOnline, ONLINE_REFRESH_MS);
    render();
  }

  function describe(error) {
    const details = (error.details || []).map((d) => `${d.field}: ${d.problem}`).join("; ");
    return details ? `${error.message} (${details})` : error.message;
  }

  async function refreshPresence() {
    // While queued or playing the server keeps the presence (matchmaking, playing): a lobby
    // refresh now would say the wrong thing.
    if (state.queue === "queued" || state.queue === "playing") return;
    try {
      await api("PUT", "/presence", { status: "home" });
    } catch (error) {
      showError(error.code, `presence: ${error.message}`);
    }
    refreshOnline();
  }

  async function refreshOnline() {
    if (!state.signedIn) return;
    let page;
    try {
      page = await api("GET", "/presence/online");
    } catch (error) {
      showError(error.code, `online users: ${error.message}`);
      return;
    }
    const others = page.items.filter((entry) => entry.userId !== state.userId);
    const list = $("online-users");
    list.replaceChildren(
      ...others.map((entry) => {
        const item = document.createElement("li");
        item.dataset.userId = entry.userId;
        item.dataset.testid = `online-user-${entry.userId}`;
        const who = document.createElement("span");
        who.className = "who";
        // Screen names are not unique: the id tells two "Bob"s apart.
        who.textContent = entry.screenName || entry.userId;
        const id = document.createElement("span");
        id.className = "user-id";
        id.textContent = entry.userId;
        who.append(" ", id);
        const status = document.createElement("span");
        status.className = "status";
        status.textContent = entry.status.replace("_", " ");
        const invite = document.createElement("button");
        invite.type = "button";
        invite.className = "invite";
        invite.dataset.testid = `invite-${entry.userId}`;
        invite.textContent = "Invite";
        invite.disabled = Boolean(state.session && !state.session.ended);
        invite.addEventListener("click", () => send({ action: "invite", to: entry.userId }));
        item.append(who, status, invite);
        return item;
      }),
    );
    $("online-empty").hidden = others.length > 0;
  }

  // --- WebSocket --------------------------------------------------------------------------------

  function connect() {
    const url = `${state.config.websocketUrl}?token=${encodeURIComponent(state.token)}`;
    const socket = new WebSocket(url);
    state.socket = socket;
    setConnection("connecting", "connecting…");
    socket.addEventListener("open", () => {
      state.reconnects = 0;
      setConnection("connected", "connected");
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        logFrame("in", String(event.data));
        return;
      }
      logFrame("in", frame);
      handleFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (state.socket !== socket) return;
      // The server took this connection's tickets out of the queue: the page starts over.
      if (state.queue === "queued") setQueue("idle", "Not in the queue (disconnected).");
      const delay = RECONNECT_DELAYS_MS[Math.min(state.reconnects, RECONNECT_DELAYS_MS.length - 1)];
      state.reconnects += 1;
      setConnection("offline", `disconnected (${event.code}); reconnecting in ${delay / 1000} s`);
      setTimeout(connect, delay);
    });
  }

  function setConnection(stateName, text) {
    const status = $("connection-status");
    status.dataset.state = stateName;
    status.textContent = text;
  }

  function send(frame) {
    if (!state.socket || state.socket.readyState !== WebSocket.OPEN) {
      showError("not_connected", "not connected to the WebSocket API");
      return false;
    }
    state.socket.send(JSON.stringify(frame));
    logFrame("out", frame);
    return true;
  }

  function logFrame(direction, frame) {
    const list = $("frames");
    const item = document.createElement("li");
    item.className = direction;
    item.dataset.type = typeof frame === "object" ? frame.type || frame.action || "" : "";
    item.textContent = `${direction === "in" ? "←" : "→"} ${typeof frame === "string" ? frame : JSON.stringify(frame)}`;
    list.prepend(item);
    while (list.children.length > FRAME_LOG_LENGTH) list.lastElementChild.remove();
  }

  function showError(code, message) {
    const box = $("last-error");
    box.dataset.code = code || "";
    box.textContent = code ? `${code}: ${message}` : message;
    box.hidden = false;
  }

  const HANDLERS = {
    // Matchmaking
    queued: (f) => onQueued(f),
    // Only news while waiting: a coalesced update can land after this player was paired.
    queueUpdate: (f) => state.queue === "queued" && onQueued(f),
    queueLeft: () => setQueue("idle", "Not in the queue."),
    paired: (f) => onPaired(f),
    move: (f) => onMove(f),
    gameOver: (f) => onGameOver(f),
    opponentLeft: (f) => onOpponentLeft(f),
    // Duels
    invite_sent: (f) => onInviteSent(f),
    invite: (f) => onInvite(f),
    rejected: (f) => onInviteClosed(f, "rejected", "Your invite was rejected."),
    no_response: (f) => onInviteClosed(f, "no_response", "No response: the invite expired."),
    start: (f) => onStart(f),
    stop: (f) => onSessionEnded(f, "stopped", `Stopped by ${f.by === state.userId ? "you" : f.by}.`),
    timeout: (f) => onSessionEnded(f, "timeout", "Time is up."),
    presence: () => refreshOnline(),
    error: (f) => onError(f),
  };

  function handleFrame(frame) {
    const handler = HANDLERS[frame.type];
    if (handler) handler(frame);
    render();
  }

  function onError(frame) {
    showError(frame.code, frame.message);
    const game = state.game;
    if (game && game.pendingCell !== null && MOVE_REFUSALS.has(frame.code)) {
      // Nothing changed on the server: the mark and the turn go back.
      game.board[game.pendingCell] = null;
      game.turn = game.marker;
      game.pendingCell = null;
    }
    if (frame.code === "session_failed" && state.session) {
      state.session.ended = true;
      setDuel("failed", frame.message);
      stopCountdown("failed", "The session failed.");
    }
  }

  // --- matchmaking ------------------------------------------------------------------------------

  function setQueue(queueState, text) {
    state.queue = queueState;
    const status = $("queue-status");
    status.dataset.state = queueState;
    status.textContent = text;
  }

  function onQueued(frame) {
    if (state.queue === "playing") return; // a late update from before the pairing
    state.game = null;
    setQueue("queued", `Position ${frame.position} of ${frame.waiting} waiting.`);
    const status = $("queue-status");
    status.dataset.position = frame.position;
    status.dataset.waiting = frame.waiting;
  }

  function onPaired(frame) {
    state.game = {
      gameId: frame.gameId,
      opponent: frame.opponent,
      opponentName: frame.opponentName || frame.opponent,
      marker: frame.marker,
      board: Array(9).fill(null),
      turn: "X", // X waited longer and moves first
      over: false,
      pendingCell: null,
    };
    setQueue("playing", `In a game against ${state.game.opponentName}.`);
  }

  function other(marker) {
    return marker === "X" ? "O" : "X";
  }

  function play(cell) {
    const game = state.game;
    if (!game || game.over || game.turn !== game.marker || game.board[cell] || game.pendingCell !== null) return;
    if (!send({ action: "move", gameId: game.gameId, cell })) return;
    // The server relays a move to the opponent and the mover's other tabs, not back to this one:
    // the mark shows now and is taken back if an error frame refuses it.
    game.board[cell] = game.marker;
    game.turn = other(game.marker);
    game.pendingCell = cell;
    render();
  }

  function onMove(frame) {
    const game = state.game;
    if (!game || frame.gameId !== game.gameId) return;
    game.board[frame.cell] = frame.marker;
    game.turn = other(frame.marker);
    game.pendingCell = null;
  }

  function onGameOver(frame) {
    const game = state.game;
    if (!game || frame.gameId !== game.gameId) return;
    game.over = true;
    game.pendingCell = null;
    game.result = frame.result === "draw" ? "draw" : frame.winner === state.userId ? "won" : "lost";
    setQueue("over", "Game over.");
  }

  function onOpponentLeft(frame) {
    const game = state.game;
    if (!game || frame.gameId !== game.gameId) return;
    game.over = true;
    game.pendingCell = null;
    game.result = "opponent_left";
    setQueue("over", "Game over: your opponent left.");
  }

  function winningLine(board) {
    return LINES.find(([a, b, c]) => board[a] && board[a] === board[b] && board[a] === board[c]) || [];
  }

  function renderGame() {
    const game = state.game;
    $("game").hidden = !game;
    if (!game) return;
    $("game").dataset.gameId = game.gameId;
    const info = $("game-info");
    info.dataset.marker = game.marker;
    info.dataset.opponent = game.opponent;
    info.textContent = `You are ${game.marker} against ${game.opponentName} (${other(game.marker)}).`;
    const turn = $("turn");
    if (game.over) {
      turn.dataset.turn = "";
      turn.textContent = "";
    } else if (game.turn === game.marker) {
      turn.dataset.turn = "mine";
      turn.textContent = `Your turn (${game.marker}).`;
    } else {
      turn.dataset.turn = "theirs";
      turn.textContent = `Waiting for ${game.opponentName} (${game.turn}).`;
    }
    const line = game.over ? winningLine(game.board) : [];
    for (const button of document.querySelectorAll("#board .cell")) {
      const cell = Number(button.dataset.cell);
      const mark = game.board[cell];
      button.textContent = mark || "";
      button.dataset.mark = mark || "";
      button.classList.toggle("winning", line.includes(cell));
      button.disabled = game.over || Boolean(mark) || game.turn !== game.marker || game.pendingCell !== null;
    }
    const result = $("game-result");
    result.hidden = !game.over;
    result.dataset.result = game.result || "";
    result.textContent = {
      won: "You won!",
      lost: `${game.opponentName} won.`,
      draw: "A draw.",
      opponent_left: `${game.opponentName} left the game.`,
    }[game.result] || "";
  }

  function renderQueueButtons() {
    $("join-queue").hidden = state.queue !== "idle";
    $("leave-queue").hidden = state.queue !== "queued";
    $("requeue").hidden = state.queue !== "over";
  }

  function joinFrame(action) {
    const frame = { action };
    // The queue's display name is 1-32 characters; a longer one is left to the token's.
    if (state.name && state.name.length <= 32) frame.username = state.name;
    return frame;
  }

  // --- duels ------------------------------------------------------------------------------------

  function setDuel(duelState, text) {
    const status = $("duel-status");
    status.dataset.state = duelState;
    status.textContent = text;
  }

  function onInviteSent(frame) {
    state.outgoingInvite = frame;
    setDuel("inviting", `Invited ${frame.to}; waiting for an answer until ${time(frame.expiresAt)}.`);
  }

  function onInvite(frame) {
    state.incomingInvite = frame;
    setDuel("invited", "An invite is waiting for your answer.");
  }

  function onInviteClosed(frame, duelState, text) {
    if (state.incomingInvite && state.incomingInvite.inviteId === frame.inviteId) state.incomingInvite = null;
    if (state.outgoingInvite && state.outgoingInvite.inviteId === frame.inviteId) state.outgoingInvite = null;
    setDuel(duelState, text);
  }

  function respond(accept) {
    const invite = state.incomingInvite;
    if (!invite) return;
    if (send({ action: "respond", inviteId: invite.inviteId, accept })) {
      state.incomingInvite = null;
      setDuel(accept ? "accepted" : "declined", accept ? "Accepted; starting…" : "You rejected the invite.");
      render();
    }
  }

  function onStart(frame) {
    state.incomingInvite = null;
    state.outgoingInvite = null;
    const startAtMs = Date.parse(frame.startAt);
    state.session = {
      sessionId: frame.sessionId,
      players: frame.players,
      startAtMs,
      endAtMs: startAtMs + frame.durationSeconds * 1000,
      ended: false,
    };
    setDuel("in_session", "In a duel.");
    $("duel-players").textContent = `${frame.players.join(" vs ")}`;
    $("duel-session").dataset.sessionId = frame.sessionId;
    clearInterval(state.countdownTimer);
    state.countdownTimer = setInterval(tickCountdown, COUNTDOWN_TICK_MS);
    tickCountdown();
  }

  function tickCountdown() {
    const session = state.session;
    if (!session || session.ended) return;
    // startAt is the server's: both players' pages count from the same instant.
    const now = Date.now();
    const countdown = $("countdown");
    if (now < session.startAtMs) {
      countdown.dataset.phase = "starting";
      countdown.textContent = `Starts in ${((session.startAtMs - now) / 1000).toFixed(1)} s`;
    } else if (now < session.endAtMs) {
      const left = Math.ceil((session.endAtMs - now) / 1000);
      countdown.dataset.phase = "running";
      countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left`;
    } else {
      // The server says when it is over (timeout); until then the clock shows zero.
      countdown.dataset.phase = "ending";
      countdown.textContent = "0:00 left";
    }
  }

  function stopCountdown(phase, text) {
    clearInterval(state.countdownTimer);
    state.countdownTimer = null;
    const countdown = $("countdown");
    countdown.dataset.phase = phase;
    countdown.textContent = text;
  }

  function onSessionEnded(frame, phase, text) {
    const session = state.session;
    if (!session || session.sessionId !== frame.sessionId) return;
    session.ended = true;
    setDuel(phase, text);
    stopCountdown(phase, phase === "stopped" ? "Stopped" : "0:00, over");
  }

  function stopDuel() {
    const session = state.session;
    if (session && !session.ended) send({ action: "stop", sessionId: session.sessionId });
  }

  function time(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
  }

  function renderDuel() {
    const invite = state.incomingInvite;
    $("incoming-invite").hidden = !invite;
    if (invite) {
      $("incoming-invite").dataset.inviteId = invite.inviteId;
      $("incoming-invite").dataset.from = invite.from;
      $("incoming-invite-text").textContent = `${invite.from} invites you to a duel.`;
      $("incoming-invite-expires").textContent = `Answer by ${time(invite.expiresAt)}.`;
    }
    const session = state.session;
    $("duel-session").hidden = !session;
    $("stop-duel").disabled = !session || session.ended;
    for (const button of document.querySelectorAll("#online-users .invite")) {
      button.disabled = Boolean(session && !session.ended);
    }
  }

  function render() {
    renderQueueButtons();
    renderGame();
    renderDuel();
  }

  // --- wiring -----------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("join-queue").addEventListener("click", () => send(joinFrame("joinQueue")));
    $("requeue").addEventListener("click", () => send(joinFrame("requeue")));
    $("leave-queue").addEventListener("click", () => send({ action: "leaveQueue" }));
    for (const button of document.querySelectorAll("#board .cell")) {
      button.addEventListener("click", () => play(Number(button.dataset.cell)));
    }
    $("refresh-online").addEventListener("click", refreshOnline);
    $("accept-invite").addEventListener("click", () => respond(true));
    $("reject-invite").addEventListener("click", () => respond(false));
    $("stop-duel").addEventListener("click", stopDuel);
    render();
  });
})();
