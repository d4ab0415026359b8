/**
 * What a headless login needs from an HTML page: its forms (controls with their current values and
 * submit buttons), a meta refresh, the title and error/alert texts. Pure.
 *
 * Built on htmlparser2's streaming tokenizer: it copes with broken markup, decodes character
 * references and treats <script>/<style> content as text, so a `<form>` inside a script is no form.
 */
import { Parser } from 'htmlparser2';

export interface FormControl {
  kind: 'input' | 'select' | 'textarea';
  name: string;
  /** Lower-case input type; `select` / `textarea` for those elements. */
  type: string;
  value: string;
  /** For checkboxes and radios: only checked ones are submitted. */
  checked: boolean;
  /** The `id` and `autocomplete` attributes, which help recognise a username field. */
  id?: string;
  autocomplete?: string;
}

export interface SubmitButton {
  /** Only a named button contributes `name=value` to the submission. */
  name?: string;
  value: string;
  /** Visible text (button content, or the value of an input button). */
  text: string;
  formAction?: string;
  formMethod?: string;
}

export interface HtmlForm {
  id?: string;
  /** The `action` attribute as written; undefined when absent. */
  action?: string;
  method: 'GET' | 'POST';
  /** Successful controls in document order (disabled ones are left out). */
  controls: FormControl[];
  buttons: SubmitButton[];
}

export interface HtmlPage {
  title: string;
  baseHref?: string;
  forms: HtmlForm[];
  /** The URL of a `<meta http-equiv="refresh">`, as written. */
  metaRefresh?: string;
  /** Texts of elements that look like messages to the user (role=alert, class error/alert/...). */
  alerts: string[];
}

const ALERT_CLASS = /(^|[\s_-])(error|errors|alert|danger|invalid|warning|message)([\s_-]|$)/i;
/** Buttons that say yes: consent, confirmation, sign-in. */
export const AFFIRMATIVE = /\b(yes|allow|accept|continue|confirm|approve|consent|sign[ -]?in|log[ -]?in|submit|authori[sz]e|agree|ok)\b/i;
/** Buttons that say no. */
export const NEGATIVE = /\b(no|deny|cancel|reject|decline|abort|back)\b/i;

interface Capture {
  /** Depth of the element whose text is captured: its close tag finishes the capture. */
  depth: number;
  text: string;
  done: (text: string) => void;
}

/** Parses a page. Never throws: broken markup yields what could be read. */
export function parseHtml(html: string): HtmlPage {
  const page: HtmlPage = { title: '', forms: [], alerts: [] };
  const formIds = new Map<string, HtmlForm>();
  /** Controls and buttons with a `form` attribute, attached once all forms are known. */
  const detached: Array<{ formId: string; add: (f: HtmlForm) => void }> = [];
  let current: HtmlForm | undefined;
  let select: { control: FormControl; multiple: boolean; options: Array<{ value: string; selected: boolean }>; owner: (c: FormControl) => void } | undefined;
  const captures: Capture[] = [];
  // htmlparser2 closes every element it opens (implied closes included), so depth stays balanced.
  let depth = 0;

  const owner = (attribs: Record<string, string>): ((add: (f: HtmlForm) => void) => void) | undefined => {
    const formId = attribs.form;
    if (formId !== undefined) return (add) => detached.push({ formId, add });
    const f = current;
    return f ? (add) => add(f) : undefined;
  };
  const capture = (done: (text: string) => void): void => {
    captures.push({ depth, text: '', done });
  };

  const parser = new Parser(
    {
      onopentag(name, attribs) {
        depth++;
        if (name === 'form') {
          if (current) return; // nested forms are ignored, as browsers do
          current = {
            ...(attribs.id !== undefined && { id: attribs.id }),
            ...(attribs.action !== undefined && { action: attribs.action }),
            method: attribs.method?.toLowerCase() === 'post' ? 'POST' : 'GET',
            controls: [],
            buttons: [],
          };
          page.forms.push(current);
          if (attribs.id !== undefined) formIds.set(attribs.id, current);
        } else if (name === 'title') {
          capture((t) => (page.title ||= collapse(t)));
        } else if (name === 'base' && attribs.href !== undefined && page.baseHref === undefined) {
          page.baseHref = attribs.href;
        } else if (name === 'meta' && attribs['http-equiv']?.toLowerCase() === 'refresh' && attribs.content) {
          const url = /^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*?)\1\s*$/i.exec(attribs.content)?.[2];
          if (url && page.metaRefresh === undefined) page.metaRefresh = url;
        } else if (name === 'input') {
          const type = (attribs.type ?? 'text').toLowerCase();
          const attach = owner(attribs);
          if (!attach || 'disabled' in attribs) return;
          if (type === 'submit' || type === 'image') {
            const value = attribs.value ?? '';
            const button = makeButton(attribs, value, value || attribs.alt || '');
            attach((f) => f.buttons.push(button));
          } else if (attribs.name && !['button', 'reset', 'file'].includes(type)) {
            const control = makeControl('input', attribs.name, type, defaultValue(type, attribs), attribs);
            attach((f) => f.controls.push(control));
          }
        } else if (name === 'button') {
          const type = (attribs.type ?? 'submit').toLowerCase();
          const attach = owner(attribs);
          if (!attach || type !== 'submit' || 'disabled' in attribs) return;
          capture((text) => {
            const button = makeButton(attribs, attribs.value ?? '', collapse(text));
            attach((f) => f.buttons.push(button));
          });
        } else if (name === 'textarea') {
          const attach = owner(attribs);
          if (!attach || !attribs.name || 'disabled' in attribs) return;
          const fieldName = attribs.name;
          capture((text) => {
            const control = makeControl('textarea', fieldName, 'textarea', text.replace(/^\r?\n/, ''), attribs);
            attach((f) => f.controls.push(control));
          });
        } else if (name === 'select') {
          const attach = owner(attribs);
          if (!attach || !attribs.name || 'disabled' in attribs) return;
          select = {
            control: makeControl('select', attribs.name, 'select', '', attribs),
            multiple: 'multiple' in attribs,
            options: [],
            owner: (c) => attach((f) => f.controls.push(c)),
          };
        } else if (name === 'option' && select && !('disabled' in attribs)) {
          const s = select;
          capture((text) => s.options.push({ value: attribs.value ?? collapse(text), selected: 'selected' in attribs }));
        }
        if (attribs.role === 'alert' || ALERT_CLASS.test(attribs.class ?? '')) {
          capture((t) => {
            const text = collapse(t);
            if (text && !page.alerts.includes(text)) page.alerts.push(text);
          });
        }
      },
      ontext(text) {
        for (const c of captures) c.text += text;
      },
      onclosetag(name) {
        for (let i = captures.length - 1; i >= 0 && captures[i]!.depth === depth; i--) {
          const c = captures.pop()!;
          c.done(c.text);
        }
        depth--;
        if (name === 'select' && select) {
          const s = select;
          select = undefined;
          const chosen = s.options.filter((o) => o.selected);
          if (s.multiple) {
            for (const o of chosen) s.owner({ ...s.control, value: o.value });
          } else {
            const pick = chosen.at(-1) ?? s.options[0];
            if (pick) s.owner({ ...s.control, value: pick.value });
          }
        } else if (name === 'form') {
          current = undefined;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  for (const { formId, add } of detached) {
    const f = formIds.get(formId);
    if (f) add(f);
  }
  return page;
}

function makeControl(kind: FormControl['kind'], name: string, type: string, value: string, attribs: Record<string, string>): FormControl {
  return {
    kind,
    name,
    type,
    value,
    checked: 'checked' in attribs,
    ...(attribs.id !== undefined && { id: attribs.id }),
    ...(attribs.autocomplete !== undefined && { autocomplete: attribs.autocomplete }),
  };
}

function makeButton(attribs: Record<string, string>, value: string, text: string): SubmitButton {
  return {
    ...(attribs.name && { name: attribs.name }),
    value,
    text,
    ...(attribs.formaction !== undefined && { formAction: attribs.formaction }),
    ...(attribs.formmethod !== undefined && { formMethod: attribs.formmethod }),
  };
}

function defaultValue(type: string, attribs: Record<string, string>): string {
  if (type === 'checkbox' || type === 'radio') return attribs.value ?? 'on';
  return attribs.value ?? '';
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A text-like input a person would type a username, e-mail address or phone number into. */
export function isTextInput(c: FormControl): boolean {
  return c.kind === 'input' && ['text', 'email', 'tel', 'search', ''].includes(c.type);
}

export function hasPassword(form: HtmlForm): boolean {
  return form.controls.some((c) => c.kind === 'input' && c.type === 'password');
}

function buttonLabel(b: SubmitButton): string {
  return `${b.text} ${b.value} ${b.name ?? ''}`;
}

export function isAffirmative(b: SubmitButton): boolean {
  return AFFIRMATIVE.test(buttonLabel(b));
}

/**
 * The button a person would press: the first affirmative one (yes, allow, continue, sign in, ...),
 * else the first that is not negative, else the first; undefined when the form has none.
 */
export function chooseSubmitter(form: HtmlForm): SubmitButton | undefined {
  return form.buttons.find(isAffirmative) ?? form.buttons.find((b) => !NEGATIVE.test(buttonLabel(b))) ?? form.buttons[0];
}

/** Of a consent or confirmation page's forms: the first with an affirmative button, else the first. */
export function chooseConfirmationForm(forms: readonly HtmlForm[]): HtmlForm | undefined {
  return forms.find((f) => f.buttons.some(isAffirmative)) ?? forms[0];
}

export interface Submission {
  method: 'GET' | 'POST';
  url: string;
  /** POST only: the form data set, urlencoded on sending. */
  body?: URLSearchParams;
}

/**
 * What submitting `form` sends (HTML §4.10.21.3, application/x-www-form-urlencoded only):
 * every control's current value, `values` overriding some, plus the submitter's name=value.
 * An absent or empty action means the page URL; otherwise it is resolved against <base> or the page URL.
 * GET replaces the action URL's query with the form data.
 */
export function buildSubmission(
  form: HtmlForm,
  page: Pick<HtmlPage, 'baseHref'>,
  pageUrl: string,
  options: { values?: ReadonlyMap<FormControl, string>; submitter?: SubmitButton } = {},
): Submission {
  const data = new URLSearchParams();
  for (const c of form.controls) {
    if ((c.type === 'checkbox' || c.type === 'radio') && !c.checked) continue;
    data.append(c.name, options.values?.get(c) ?? c.value);
  }
  const submitter = options.submitter;
  if (submitter?.name) data.append(submitter.name, submitter.value);
  const action = submitter?.formAction ?? form.action;
  const base = page.baseHref ? new URL(page.baseHref, pageUrl).href : pageUrl;
  const url = new URL(action ? action : pageUrl, action ? base : pageUrl);
  url.hash = '';
  const method = submitter?.formMethod ? (submitter.formMethod.toLowerCase() === 'post' ? 'POST' : 'GET') : form.method;
  if (method === 'GET') {
    url.search = data.toString();
    return { method, url: url.href };
  }
  return { method, url: url.href, body: data };
}
