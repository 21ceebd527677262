"""The panel's stylesheet, built on JupyterLab's CSS variables so it follows light and dark themes.

It is injected once, in the panel's header ``HTML`` widget; every rule is scoped to ``onb-``
classes so nothing else in the notebook changes.
"""

from __future__ import annotations

PANEL_CSS = """
.onb-panel { border: 1px solid var(--jp-border-color2); border-radius: 8px;
  padding: 8px 12px 10px; background: var(--jp-layout-color1); max-width: 920px; }
.onb-header { display: flex; justify-content: space-between; align-items: baseline;
  gap: 12px; flex-wrap: wrap; padding: 2px 2px 6px; }
.onb-title { font-weight: 600; font-size: var(--jp-ui-font-size2);
  color: var(--jp-ui-font-color0); }
.onb-strip { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2);
  font-variant-numeric: tabular-nums; }
.onb-strip b { color: var(--jp-ui-font-color1); font-weight: 600; }
.onb-conversation { border: 1px solid var(--jp-border-color2); border-radius: 6px;
  background: var(--jp-layout-color0); padding: 4px 10px; margin: 6px 0; }
.onb-empty { color: var(--jp-ui-font-color3); font-style: italic; padding: 14px 2px; }
.onb-user { background: var(--jp-layout-color2); border-radius: 10px; padding: 6px 10px;
  margin: 8px 0 2px 18%; white-space: pre-wrap; color: var(--jp-ui-font-color0); }
.onb-answer { line-height: 1.55; color: var(--jp-content-font-color1); padding: 0 2px;
  overflow-wrap: anywhere; }
.onb-answer p { margin: 6px 0; }
.onb-answer pre { background: var(--jp-cell-editor-background);
  border: 1px solid var(--jp-border-color2); border-radius: 4px; padding: 6px 8px;
  overflow-x: auto; font-family: var(--jp-code-font-family);
  font-size: var(--jp-code-font-size); line-height: 1.4; }
.onb-answer code { font-family: var(--jp-code-font-family); font-size: 0.92em;
  background: var(--jp-layout-color2); padding: 0 3px; border-radius: 3px; }
.onb-answer pre code { background: none; padding: 0; font-size: inherit; }
.onb-answer table { border-collapse: collapse; margin: 6px 0; }
.onb-answer th, .onb-answer td { border: 1px solid var(--jp-border-color2); padding: 2px 8px; }
.onb-plain { white-space: pre-wrap; }
.onb-live::after { content: "\\258D"; color: var(--jp-brand-color1);
  animation: onb-blink 1s steps(2, start) infinite; }
@keyframes onb-blink { to { visibility: hidden; } }
.onb-thinking summary { cursor: pointer; color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size1); }
.onb-thinking div { white-space: pre-wrap; color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size1); border-left: 2px solid var(--jp-border-color2);
  padding-left: 8px; margin: 4px 0; }
.onb-footer { font-size: var(--jp-ui-font-size0); color: var(--jp-ui-font-color2);
  font-variant-numeric: tabular-nums; padding: 2px 2px 6px;
  border-bottom: 1px dashed var(--jp-border-color2); }
.onb-stopped { color: var(--jp-warn-color0); font-weight: 600; }
.onb-error { color: var(--jp-error-color1); }
.onb-muted { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size1); }
.onb-context { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0);
  margin-top: 2px; }
.onb-status { font-size: var(--jp-ui-font-size1); min-height: 1.4em; }
.onb-copy { font-size: var(--jp-ui-font-size1); padding: 0 10px; height: 28px;
  border: 1px solid var(--jp-border-color1); border-radius: 2px; cursor: pointer;
  background: var(--jp-layout-color2); color: var(--jp-ui-font-color1); }
.onb-copy:hover:enabled { background: var(--jp-layout-color3); }
.onb-copy:disabled { opacity: 0.5; cursor: default; }
.onb-usage table { border-collapse: collapse; font-size: var(--jp-ui-font-size1);
  font-variant-numeric: tabular-nums; }
.onb-usage { overflow-x: auto; margin-top: 6px; }
.onb-usage th, .onb-usage td { border-bottom: 1px solid var(--jp-border-color2);
  padding: 3px 8px; text-align: right; white-space: nowrap; }
.onb-usage th:first-child, .onb-usage td:first-child { text-align: left; }
"""
