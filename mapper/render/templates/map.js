/* mapper map page: draws the map from the embedded JSON data with vis-network and
   wires the search box, the filters and the details panel. Text taken from the data
   is only ever written with textContent, never as markup. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("mapper-data").textContent);
  var container = document.getElementById("mapper-canvas");
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);

  window.mapperNodes = nodes;
  window.mapperEdges = edges;
  window.mapperNetwork = network;
  window.mapperReady = false;
  network.once("afterDrawing", function () {
    window.mapperReady = true;
    window.mapperReadyAt = performance.now();
    document.documentElement.setAttribute("data-mapper-ready", "1");
  });
  network.fit({ animation: false });

  function byId(id) {
    return document.getElementById(id);
  }

  var details = byId("mapper-details");
  function showDetails(text) {
    if (details) {
      details.textContent = text || "";
    }
  }

  /* Faction names over a large map: text drawn on the canvas, at each faction's
     centre, hidden with the faction by the filter. */
  var labels = Array.isArray(data.labels) ? data.labels : [];
  var hiddenFactions = {};
  window.mapperLabelsDrawn = 0;
  network.on("afterDrawing", function (ctx) {
    var drawn = 0;
    labels.forEach(function (label) {
      if (hiddenFactions[String(label.fac)]) {
        return;
      }
      ctx.save();
      ctx.font = "600 " + Number(label.size) + "px system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      ctx.lineWidth = Number(label.size) / 4;
      ctx.strokeStyle = "rgba(255, 255, 255, 0.8)";
      ctx.globalAlpha = 0.9;
      ctx.strokeText(String(label.text), Number(label.x), Number(label.y));
      ctx.fillStyle = String(label.colour);
      ctx.fillText(String(label.text), Number(label.x), Number(label.y));
      ctx.restore();
      drawn += 1;
    });
    window.mapperLabelsDrawn = drawn;
  });

  /* Double-click on a faction of the overview opens its own map (a file name
     written by mapper, checked again here). */
  var PAGE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.html$/;
  network.on("doubleClick", function (params) {
    if (!params.nodes.length) {
      return;
    }
    var node = nodes.get(params.nodes[0]);
    if (node && typeof node.link === "string" && PAGE.test(node.link)) {
      window.location.href = node.link;
    }
  });

  network.on("click", function (params) {
    if (params.nodes.length) {
      var node = nodes.get(params.nodes[0]);
      showDetails(node ? node.title || node.label : "");
    } else if (params.edges.length) {
      var edge = edges.get(params.edges[0]);
      showDetails(edge ? edge.title : "");
    }
  });

  /* ------------------------------------------------------------------ search */

  var entries = [];
  nodes.forEach(function (node) {
    var label = String(node.label === undefined ? node.id : node.label).split("\n")[0];
    entries.push({ id: node.id, label: label, key: label.toLowerCase(), ident: String(node.id).toLowerCase() });
  });
  entries.sort(function (a, b) {
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  });

  var names = byId("mapper-names");
  if (names) {
    var fragment = document.createDocumentFragment();
    var seen = {};
    entries.forEach(function (entry) {
      if (Object.prototype.hasOwnProperty.call(seen, entry.label)) {
        return;
      }
      seen[entry.label] = true;
      var option = document.createElement("option");
      option.value = entry.label;
      fragment.appendChild(option);
    });
    names.appendChild(fragment);
  }

  function find(text) {
    var query = String(text || "").trim().toLowerCase();
    var i;
    if (!query) {
      return null;
    }
    for (i = 0; i < entries.length; i++) {
      if (entries[i].key === query || entries[i].ident === query) {
        return entries[i].id;
      }
    }
    for (i = 0; i < entries.length; i++) {
      if (entries[i].key.indexOf(query) === 0) {
        return entries[i].id;
      }
    }
    for (i = 0; i < entries.length; i++) {
      if (entries[i].key.indexOf(query) >= 0 || entries[i].ident.indexOf(query) >= 0) {
        return entries[i].id;
      }
    }
    return null;
  }

  var status = byId("mapper-status");
  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function focusNode(id) {
    var node = nodes.get(id);
    var label = String(node.label || node.id).split("\n")[0];
    network.selectNodes([id]);
    network.focus(id, {
      scale: Math.max(network.getScale(), 1.0),
      animation: { duration: 350, easingFunction: "easeInOutQuad" }
    });
    showDetails(node.title || label);
    say(node.hidden ? "Found " + label + " (hidden by a filter)" : "Found " + label);
  }

  window.mapperFind = function (text) {
    var id = find(text);
    if (id !== null) {
      focusNode(id);
    }
    return id;
  };

  var form = byId("mapper-find");
  var input = byId("mapper-search");
  if (form && input) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var id = find(input.value);
      if (id === null) {
        say("Nothing matches \u201c" + input.value + "\u201d");
      } else {
        focusNode(id);
      }
    });
    input.addEventListener("change", function () {
      var query = input.value.trim().toLowerCase();
      for (var i = 0; i < entries.length; i++) {
        if (entries[i].key === query) {
          focusNode(entries[i].id);
          return;
        }
      }
    });
  }

  /* ----------------------------------------------------------------- filters */

  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-filter]"));
  var filterStatus = byId("mapper-filter-status");

  function checked(kind) {
    var on = {};
    var present = false;
    boxes.forEach(function (box) {
      if (box.getAttribute("data-filter") === kind) {
        present = true;
        if (box.checked) {
          on[box.value] = true;
        }
      }
    });
    return present ? on : null;
  }

  function applyFilters() {
    var factions = checked("faction");
    var kinds = checked("kind");
    var updates = [];
    var shown = 0;
    hiddenFactions = {};
    if (factions) {
      labels.forEach(function (label) {
        if (!factions[String(label.fac)]) {
          hiddenFactions[String(label.fac)] = true;
        }
      });
    }
    nodes.forEach(function (node) {
      var show = true;
      if (factions && node.fac !== undefined && !factions[String(node.fac)]) {
        show = false;
      }
      if (kinds && node.kind !== undefined && node.kind !== "faction" && !kinds[node.kind]) {
        show = false;
      }
      if (show) {
        shown += 1;
      }
      if (Boolean(node.hidden) === show) {
        updates.push({ id: node.id, hidden: !show });
      }
    });
    if (updates.length) {
      nodes.update(updates);
    } else {
      network.redraw();
    }
    if (filterStatus) {
      filterStatus.textContent = shown === nodes.length ? "" : shown + " of " + nodes.length + " shown";
    }
    /* layers: ties carrying a "layer" (who talks to whom, who votes with whom...) */
    var layers = checked("layer");
    if (layers) {
      var edgeUpdates = [];
      edges.forEach(function (edge) {
        if (edge.layer === undefined) {
          return;
        }
        var on = Boolean(layers[String(edge.layer)]);
        if (Boolean(edge.hidden) === on) {
          edgeUpdates.push({ id: edge.id, hidden: !on });
        }
      });
      if (edgeUpdates.length) {
        edges.update(edgeUpdates);
      }
    }
  }

  boxes.forEach(function (box) {
    box.addEventListener("change", applyFilters);
  });
  Array.prototype.slice.call(document.querySelectorAll("button[data-set]")).forEach(function (button) {
    button.addEventListener("click", function () {
      var kind = button.getAttribute("data-filter-group");
      var value = button.getAttribute("data-set") === "all";
      boxes.forEach(function (box) {
        if (box.getAttribute("data-filter") === kind) {
          box.checked = value;
        }
      });
      applyFilters();
    });
  });

  if (boxes.some(function (box) { return !box.checked; })) {
    applyFilters();
  }

  var fit = byId("mapper-fit");
  if (fit) {
    fit.addEventListener("click", function () {
      network.fit({ animation: { duration: 300, easingFunction: "easeInOutQuad" } });
    });
  }

  if (data.focus !== null && data.focus !== undefined && nodes.get(data.focus)) {
    network.selectNodes([data.focus]);
    showDetails(nodes.get(data.focus).title);
  }
})();
