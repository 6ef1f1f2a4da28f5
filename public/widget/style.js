/* Switchboard widget: the panel's styles. Every rule is scoped under #switchboard-widget and the
 * elements we use are reset explicitly, because the host page brings its own CSS. ES5. */
(function (W) {
  'use strict';
  var R = '#switchboard-widget';
  // data-color goes into CSS text here, so only plain colour syntax is taken.
  var COLOR = /^(#[0-9a-f]{3,8}|[a-z]{3,20}|(rgb|hsl)a?\([0-9., %]+\))$/i.test(W.color) ? W.color : '#2b6cb0';
  var RULES = [
    R + ',' + R + ' *{box-sizing:border-box;margin:0;padding:0;border:0;background:none;color:inherit;' +
      'font:inherit;line-height:inherit;text-align:left;text-transform:none;text-decoration:none;' +
      'text-indent:0;text-shadow:none;letter-spacing:normal;word-spacing:normal;white-space:normal;' +
      'float:none;list-style:none;box-shadow:none;max-width:none;min-width:0;opacity:1;visibility:inherit;' +
      'vertical-align:baseline;-webkit-appearance:none;-moz-appearance:none;appearance:none}',
    R + '{font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,' +
      '"Noto Sans","PingFang SC","Microsoft YaHei","Apple SD Gothic Neo","Malgun Gothic",sans-serif;' +
      'color:#1a202c;position:static}',
    R + ' button{cursor:pointer;min-height:44px;min-width:44px;border-radius:8px;text-align:center;' +
      '-webkit-tap-highlight-color:transparent;' +
      'font-weight:600}',
    R + ' button:disabled{cursor:default;opacity:.6}',
    R + ' :focus{outline:3px solid #f6ad55;outline-offset:1px}',
    R + ' svg{width:22px;height:22px;fill:currentColor;display:block;margin:auto}',
    R + ' .sbw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    R + ' .sbw-panel{position:fixed;bottom:92px;right:20px;z-index:2147483001;width:370px;height:580px;' +
      'max-height:calc(100vh - 112px);background:#fff;border-radius:14px;overflow:hidden;' +
      'box-shadow:0 10px 40px rgba(0,0,0,.28);display:flex;flex-direction:column}',
    R + '.sbw-left .sbw-panel{right:auto;left:20px}',
    R + ' .sbw-head{display:flex;align-items:center;padding:8px 8px 8px 16px;color:#fff;flex:none}',
    R + ' .sbw-titles{flex:1;overflow:hidden}',
    R + ' .sbw-title{font-weight:700;font-size:16px}',
    R + ' .sbw-status{font-size:13px;opacity:.9;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}',
    R + ' .sbw-head button{color:#fff;padding:0 10px;margin-left:4px;font-size:13px}',
    R + ' .sbw-head button:hover{background:rgba(255,255,255,.18)}',
    R + ' .sbw-bar{padding:8px 16px;font-size:13px;flex:none;display:flex;align-items:center}',
    R + ' .sbw-conn{background:#fefcbf;color:#744210}',
    R + ' .sbw-ann{background:#ebf8ff;color:#2a4365}',
    R + ' .sbw-ann span{flex:1}',
    R + ' .sbw-ann button{min-width:44px;color:#2a4365}',
    R + ' .sbw-body{flex:1;overflow-y:auto;-webkit-overflow-scrolling:touch;padding:12px 14px;' +
      'display:flex;flex-direction:column;background:#f7fafc}',
    R + ' .sbw-body>*{flex:none}',
    R + ' p.sbw-lead{margin:4px 0 10px;font-weight:600}',
    R + ' .sbw-pick{display:block;width:100%;margin:0 0 8px;padding:10px 14px;background:#fff;' +
      'border:1px solid #cbd5e0;text-align:left;font-weight:500}',
    R + ' .sbw-pick:hover{border-color:#4a5568}',
    R + ' .sbw-pick small{color:#718096;font-size:13px;margin-left:6px;font-weight:400}',
    R + ' .sbw-note,' + R + ' .sbw-err{font-size:13px;color:#4a5568;margin:6px 0;text-align:center}',
    R + ' .sbw-err{color:#c53030}',
    R + ' .sbw-queue{background:#fffff0;border:1px solid #ecc94b;border-radius:8px;padding:10px;' +
      'text-align:center;margin-bottom:8px}',
    R + ' .sbw-log{display:block;flex:1 0 auto}',
    R + ' .sbw-msg{display:block;margin:6px 0;overflow:hidden}',
    R + ' .sbw-who{display:block;font-size:12px;color:#718096;margin:0 4px 2px}',
    R + ' .sbw-text{display:inline-block;max-width:85%;padding:8px 12px;border-radius:14px;' +
      'background:#fff;border:1px solid #e2e8f0;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:break-word}',
    R + ' .sbw-visitor{text-align:right}',
    R + ' .sbw-visitor .sbw-who{display:none}',
    R + ' .sbw-visitor .sbw-text{background:' + COLOR + ';color:#fff;border-color:transparent;text-align:left}',
    R + ' .sbw-pending .sbw-text{opacity:.6}',
    R + ' .sbw-failed .sbw-text{background:#fff5f5;color:#c53030;border-color:#feb2b2}',
    R + ' .sbw-state{display:block;font-size:12px;color:#a0aec0;text-align:inherit}',
    R + ' .sbw-visitor .sbw-state{text-align:right}',
    R + ' .sbw-failed .sbw-state{color:#c53030}',
    R + ' .sbw-system{text-align:center}',
    R + ' .sbw-system .sbw-who{display:none}',
    R + ' .sbw-system .sbw-text{background:#edf2f7;font-size:13px;color:#4a5568}',
    R + ' .sbw-event{display:block;text-align:center;font-size:12px;color:#718096;margin:8px 0}',
    R + ' .sbw-typing{font-size:13px;color:#718096;font-style:italic;margin:4px 2px}',
    R + ' form.sbw-form{display:block;margin:8px 0}',
    R + ' .sbw-form label{display:block;font-size:13px;font-weight:600;margin:8px 0 4px}',
    R + ' input,' + R + ' textarea{display:block;width:100%;font-size:16px;padding:10px 12px;' +
      'min-height:44px;background:#fff;border:1px solid #cbd5e0;border-radius:8px;color:#1a202c;' +
      'white-space:pre-wrap}',
    R + ' textarea{resize:none;height:auto}',
    R + ' .sbw-main{display:block;width:100%;margin-top:12px;color:#fff;padding:0 16px}',
    R + ' .sbw-ghost{display:block;width:100%;margin-top:10px;background:#fff;border:1px solid #cbd5e0;padding:0 16px}',
    R + ' .sbw-stars{display:flex;justify-content:center;margin:6px 0}',
    R + ' .sbw-stars button{font-size:26px;line-height:1;color:#cbd5e0;font-weight:400;padding:0}',
    R + ' .sbw-stars button.sbw-on{color:#ecc94b}',
    R + ' .sbw-done{background:#f0fff4;border:1px solid #9ae6b4;border-radius:8px;padding:10px;' +
      'text-align:center;margin:8px 0}',
    R + ' .sbw-foot{display:flex;align-items:flex-end;padding:8px;border-top:1px solid #e2e8f0;' +
      'background:#fff;flex:none}',
    R + ' .sbw-foot textarea{flex:1;max-height:120px;margin-right:8px;border-radius:22px;padding:10px 16px}',
    R + ' .sbw-foot button{color:#fff;border-radius:22px;width:44px;padding:0}',
    '@media (max-width:480px){' +
      R + ' .sbw-panel,' + R + '.sbw-left .sbw-panel{top:0;left:0;right:0;bottom:0;width:100%;' +
      'height:100%;max-height:none;border-radius:0}' +
      R + '.sbw-open .sbw-launcher{display:none}}',
    '@media print{' + R + '{display:none}}'
  ];

  W.parts.style = function () {
    W.style.appendChild(document.createTextNode(RULES.join('\n')));
  };
  W.boot();
}(window.SwitchboardWidget));
