import { expect } from 'chai';
import { parseCsv } from '../daemon/core/csv.js';

/** The user import's CSV reader: what Excel, LibreOffice and a text editor write. */
describe('CSV of a user import (no daemon)', () => {
  it('reads quoted fields with separators, doubled quotes and line breaks inside', () => {
    expect(parseCsv('userName,lastName\nanna,"Berg, Dr."\nbert,"der ""Chef"""\ncarl,"zwei\nZeilen"\n')).to.deep.equal([
      ['userName', 'lastName'],
      ['anna', 'Berg, Dr.'],
      ['bert', 'der "Chef"'],
      ['carl', 'zwei\nZeilen'],
    ]);
  });

  it('takes the semicolon of German Excel, CRLF and a byte order mark', () => {
    expect(parseCsv('\uFEFFuserName;firstName\r\nanna;Anna, M.\r\n')).to.deep.equal([
      ['userName', 'firstName'],
      ['anna', 'Anna, M.'],
    ]);
  });

  it('keeps empty fields and a last line without a line break', () => {
    expect(parseCsv('a,b,c\n,,x\ny,,')).to.deep.equal([
      ['a', 'b', 'c'],
      ['', '', 'x'],
      ['y', '', ''],
    ]);
    expect(parseCsv('')).to.deep.equal([]);
  });
});
