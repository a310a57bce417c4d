Attribute VB_Name = "IMSButtons"
' IMS workbook: the Start-sheet buttons and a few helpers.
'
' Source of truth: vba_stub/IMSButtons.bas in the ims_excel repository; the
' build (python -m ims_excel.template.build) embeds it in IMS_Workbook.xlsm.
' The button macros call Python through the embedded xlwings module
' (RunPython); the helpers below them are plain VBA and need no Python.
Option Explicit

' Sheets are protected without a password (formulas are locked against accidents only).
Public Const IMS_PASSWORD As String = ""

Public Sub IMS_ImportData()
    RunPython "import ims_excel.xl.macros as m; m.import_data()"
End Sub

Public Sub IMS_Validate()
    RunPython "import ims_excel.xl.macros as m; m.validate()"
End Sub

Public Sub IMS_Compute()
    RunPython "import ims_excel.xl.macros as m; m.compute()"
End Sub

Public Sub IMS_BuildLiability()
    RunPython "import ims_excel.xl.macros as m; m.build_liability()"
End Sub

Public Sub IMS_ExportJSON()
    RunPython "import ims_excel.xl.macros as m; m.export_upload_json()"
End Sub

Public Sub IMS_Reconcile()
    RunPython "import ims_excel.xl.macros as m; m.reconcile()"
End Sub

' Blank the decisions in the Inward table: Action, ITC Reduction and the declared amounts.
Public Sub ClearActions()
    Dim ws As Worksheet
    Dim lo As ListObject
    Dim col As Variant
    Set ws = ThisWorkbook.Worksheets("Inward")
    Set lo = ws.ListObjects("Inward")
    If lo.DataBodyRange Is Nothing Then Exit Sub
    ws.Unprotect IMS_PASSWORD
    For Each col In Array("Action", "ITC Reduction", "Declared IGST", "Declared CGST", _
                          "Declared SGST", "Declared Cess")
        lo.ListColumns(col).DataBodyRange.ClearContents
    Next col
    ProtectSheet ws
End Sub

' Show every row of the Inward and Outward sheets again (clears the table filters).
Public Sub ResetFilters()
    Dim name As Variant
    Dim ws As Worksheet
    For Each name In Array("Inward", "Outward")
        Set ws = ThisWorkbook.Worksheets(name)
        If ws.FilterMode Then
            ws.Unprotect IMS_PASSWORD
            ws.ShowAllData
            ProtectSheet ws
        End If
    Next name
End Sub

' Write the rules version and the time into the LastStamp cell of the Start sheet.
Public Sub StampVersion()
    Dim ws As Worksheet
    Set ws = ThisWorkbook.Worksheets("Start")
    ws.Range("LastStamp").Value = "Rules " & ws.Range("RulesVersion").Value & ", " & _
                                  Format(Now, "dd-mm-yyyy hh:nn")
End Sub

' Protect a sheet as the build does: no password; filtering, sorting and formatting allowed.
Public Sub ProtectSheet(ByVal ws As Worksheet)
    ws.Protect Password:=IMS_PASSWORD, DrawingObjects:=True, Contents:=True, Scenarios:=True, _
               AllowFormattingColumns:=True, AllowFormattingRows:=True, _
               AllowSorting:=True, AllowFiltering:=True
End Sub
