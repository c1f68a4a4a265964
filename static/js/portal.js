/* Progressive enhancement only: every page works without this file.
 * - moves focus to an error summary so screen-reader and keyboard users meet it first;
 * - announces htmx result updates in a polite live region;
 * - tells the user when an htmx request failed (htmx 2 does not swap error responses);
 * - after a page link swaps a result list, moves focus to the new list;
 * - keeps "come back here" fields in step with addresses htmx pushes.
 * No eval, no inline handlers (CSP: script-src 'self' 'nonce-…').
 */
(function () {
  "use strict";

  var FAILURE_MESSAGES = {
    429: "操作过于频繁，请稍等一分钟后再试。",
    403: "您当前的身份无权执行此操作。",
    404: "没有找到相应内容，请刷新页面后重试。"
  };
  var DEFAULT_FAILURE = "请求未能完成，请稍后重试，或刷新页面。";
  var NETWORK_FAILURE = "网络连接失败，请检查网络后重试。";

  function byId(id) {
    return document.getElementById(id);
  }

  function announce(text) {
    var region = byId("live-region");
    if (!region) {
      return;
    }
    region.textContent = "";
    // a fresh text node after a tick is announced even when the text repeats
    window.setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  function showFailure(text) {
    var box = byId("js-messages");
    if (!box) {
      return;
    }
    box.textContent = text;
  }

  function clearFailure() {
    var box = byId("js-messages");
    if (box) {
      box.textContent = "";
    }
  }

  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
      return true;
    }
    return false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary(document);
  });

  document.addEventListener("htmx:beforeRequest", clearFailure);

  // Forms that come back to "this page" (the text-size switch) carry the page's address in a
  // hidden `next` field; when htmx pushes a new address (a live search), follow it.
  function followLocation() {
    var fields = document.querySelectorAll("input[data-follows-location]");
    for (var i = 0; i < fields.length; i += 1) {
      fields[i].value = window.location.pathname + window.location.search;
    }
  }

  document.addEventListener("htmx:pushedIntoHistory", followLocation);
  document.addEventListener("htmx:historyRestore", followLocation);
  window.addEventListener("popstate", followLocation);

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    showFailure(FAILURE_MESSAGES[status] || DEFAULT_FAILURE);
  });

  document.addEventListener("htmx:sendError", function () {
    showFailure(NETWORK_FAILURE);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    // after an outerHTML swap detail.target is the replaced element: look the new one up by id
    var targetId = detail.target ? detail.target.id : "";
    var trigger = detail.requestConfig ? detail.requestConfig.elt : null;
    var fresh = targetId ? byId(targetId) : null;
    if (!fresh) {
      return;
    }
    var summary = fresh.getAttribute("data-result-summary");
    if (summary) {
      announce(summary);
    }
    if (focusErrorSummary(fresh)) {
      return;
    }
    if (trigger && trigger.hasAttribute("data-focus-results")) {
      fresh.focus();
    }
  });
})();
