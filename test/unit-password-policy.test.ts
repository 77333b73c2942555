import { expect } from 'chai';
import { MIN_PASSWORD_LENGTH, passwordProblem } from '../daemon/core/password-policy.js';

describe('admin password policy (no daemon)', () => {
  it('accepts a long password of many different characters', () => {
    expect(passwordProblem('Fernmelde-Amt 1987 Ost')).to.equal(null);
    expect(passwordProblem('x'.repeat(3) + 'kR7!vQ2#mZ9p', 'admin')).to.equal(null);
  });

  it('refuses short ones, blanks around a short one and few distinct characters', () => {
    expect(passwordProblem('kR7!vQ2#mZ9')).to.equal(`at least ${MIN_PASSWORD_LENGTH} characters`);
    expect(passwordProblem('   kR7!vQ2#mZ   ')).to.equal(`at least ${MIN_PASSWORD_LENGTH} characters besides leading and trailing blanks`);
    expect(passwordProblem('aaaabbbbcccc')).to.equal('too few different characters');
  });

  it('refuses common passwords, also with digits or symbols around them, and counting digits', () => {
    expect(passwordProblem('Password2024!')).to.equal('a common password');
    expect(passwordProblem('!!qwertz1234')).to.equal('a common password');
    expect(passwordProblem('123456789012')).to.equal('a common password');
    expect(passwordProblem('987654321098')).to.equal('a common password');
  });

  it('refuses the admin name with little around it, and a repeated piece', () => {
    expect(passwordProblem('Hannelore-2024', 'hannelore')).to.equal('too close to the admin name');
    expect(passwordProblem('abcdeabcdeabcde')).to.equal('a repeated pattern');
  });
});
