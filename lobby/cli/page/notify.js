// The captain's console in a browser (`lobby web --captain`): its alerts as the browser's
// notifications.
//
// The console decides when a notification is due (a new offer or a decision on a request,
// while this page is not focused) and what it says (lobby/tui/alerts.py); the server passes it
// on the console's WebSocket as the text message ["lobby-notify", {title, body}]. The text
// comes from the network: it is handed to the Notification as data, and nothing here ever
// puts it into the page as markup.
//
// The browser asks for permission only on a gesture: the "Enable notifications" button of the
// bar above the terminal. A refusal is said once, in the same bar.
(() => {
  "use strict";
  const MESSAGE = "lobby-notify";
  const bar = document.getElementById("lobby-notifications");
  if (bar === null) {
    return;
  }
  const words = bar.querySelector(".words");
  const enable = bar.querySelector(".enable");
  const dismiss = bar.querySelector(".dismiss");
  const REFUSAL_SAID = "lobby.notifications.refusal-said";

  function available() {
    return "Notification" in window && window.isSecureContext;
  }

  function permission() {
    return available() ? window.Notification.permission : "unavailable";
  }

  function fit() {
    // The terminal takes what the bar leaves: fit it again (the terminal's script listens).
    window.dispatchEvent(new Event("resize"));
  }

  function show(text, asking) {
    words.textContent = text;
    enable.hidden = !asking;
    const changed = bar.hidden;
    bar.hidden = false;
    if (changed) {
      fit();
    }
  }

  function hide() {
    if (!bar.hidden) {
      bar.hidden = true;
      fit();
    }
  }

  function saidOnce() {
    try {
      if (window.sessionStorage.getItem(REFUSAL_SAID)) {
        return true;
      }
      window.sessionStorage.setItem(REFUSAL_SAID, "1");
    } catch (error) {
      // No storage: said on each load.
    }
    return false;
  }

  function refused() {
    if (saidOnce()) {
      hide();
      return;
    }
    show(
      "The browser refuses notifications for this page: new offers and decisions show in the " +
        "console only (the site settings can allow them).",
      false,
    );
  }

  function update() {
    switch (permission()) {
      case "granted":
        hide();
        break;
      case "default":
        show("Desktop notifications of new offers and decisions while this tab is not focused:", true);
        break;
      case "denied":
        refused();
        break;
      case "unavailable":
        if (!saidOnce()) {
          show(
            "This browser shows no notifications for this page (they need https or localhost): " +
              "new offers and decisions show in the console only.",
            false,
          );
        }
    }
  }

  enable.addEventListener("click", async () => {
    enable.disabled = true;
    try {
      await window.Notification.requestPermission();
    } finally {
      enable.disabled = false;
    }
    update();
  });
  dismiss.addEventListener("click", hide);

  function notify(data) {
    if (permission() !== "granted" || data === null || typeof data !== "object") {
      return;
    }
    const title = data.title;
    const body = data.body;
    if (typeof title !== "string" || typeof body !== "string") {
      return;
    }
    const notification = new window.Notification(title, { body: body });
    notification.addEventListener("click", () => {
      window.focus();
      notification.close();
    });
  }

  // The console's WebSocket is opened by the terminal's script: listen on it for notifications.
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          return;
        }
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        if (Array.isArray(message) && message[0] === MESSAGE) {
          notify(message[1]);
        }
      });
    }
  };

  update();
})();
