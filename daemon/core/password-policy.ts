/**
 * The admin password policy: at least 12 characters, not only blanks, not a
 * run of few distinct characters, and not a common password (also not one
 * with digits or symbols merely added at either end, nor the admin's name).
 * Returns the problem in words, or null when the password is acceptable.
 */
export const MIN_PASSWORD_LENGTH = 12;

/** Common passwords and the words they are built from (lower case). */
const COMMON = new Set(
  `password passwort passw0rd p@ssword p@ssw0rd pass admin administrator admin123 root toor
  qwerty qwertz qwertyuiop qwertzuiop asdfgh asdfghjkl yxcvbnm zxcvbnm azerty qazwsx 1qaz2wsx qwe123 qweasd
  letmein welcome willkommen hallo hello iloveyou ichliebedich monkey dragon master shadow sunshine princess
  football fussball baseball soccer superman batman trustno1 whatever freedom starwars pokemon
  login changeme default secret geheim geheimnis sommer winter fruehling herbst
  telefon telephone phone anlage pbx pbxd asterisk sipgate fritzbox
  abc abcdef abcdefgh abcdefghijkl abcd1234 a1b2c3 test testing tester benutzer user guest gast
  schatz hase baby michael daniel thomas andreas stefan alexander jessica jennifer
  mustermann musterfrau company firma office buero support service system server
  123456 1234567 12345678 123456789 1234567890 12345678910 123123 123321 654321 987654321 111111 000000 121212
  112233 123654 147258 159753 789456 456789 666666 696969 777777 888888 999999 131313 123qwe`.split(/\s+/),
);

export function passwordProblem(password: string, name = ''): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.trim().length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters besides leading and trailing blanks`;
  if (new Set(password).size < 5) return 'too few different characters';
  const lower = password.toLowerCase();
  if (name && lower.includes(name.toLowerCase()) && lower.replace(name.toLowerCase(), '').replace(/[^a-z]/g, '').length < 4) return 'too close to the admin name';
  // "Password2024!", "!!qwertz1234", "sommer2025": a common word with digits or symbols around it.
  const core = lower.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const digitsOnly = lower.replace(/\D/g, '');
  if (COMMON.has(lower) || COMMON.has(core) || (core === '' && isSequence(digitsOnly))) return 'a common password';
  if (isRepetition(lower)) return 'a repeated pattern';
  return null;
}

/** "123456789012", "987654321098": digits counting up or down. */
function isSequence(digits: string): boolean {
  if (digits.length < 6) return false;
  const up = (i: number) => (Number(digits[i - 1]) + 1) % 10 === Number(digits[i]);
  const down = (i: number) => (Number(digits[i - 1]) + 9) % 10 === Number(digits[i]);
  let ups = 0;
  let downs = 0;
  for (let i = 1; i < digits.length; i++) (ups += up(i) ? 1 : 0), (downs += down(i) ? 1 : 0);
  return ups >= digits.length - 2 || downs >= digits.length - 2;
}

/** "abcabcabcabc", "passpasspass": one short piece over and over. */
function isRepetition(s: string): boolean {
  for (let n = 1; n <= s.length / 3; n++) {
    const piece = s.slice(0, n);
    if (piece.repeat(Math.ceil(s.length / n)).slice(0, s.length) === s) return true;
  }
  return false;
}
